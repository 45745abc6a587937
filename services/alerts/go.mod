module vigie/services/alerts

go 1.26.0

require (
	vigie/events v0.0.0
	vigie/policies v0.0.0
)

replace vigie/events => ../../events

replace vigie/policies => ../../policies

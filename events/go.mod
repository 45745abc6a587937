module vigie/events

go 1.26.0


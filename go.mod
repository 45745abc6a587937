module vigie

go 1.26.0

require vigie/events v0.0.0

require (
	github.com/EventStore/EventStore-Client-Go/v4 v4.2.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
)

replace vigie/events => ./events

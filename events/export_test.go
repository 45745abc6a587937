package events

// For the tests of package events_test.
var (
	FormatUUID = formatUUID
	ParseUUID  = parseUUID
)

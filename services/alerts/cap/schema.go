package cap

import _ "embed"

// Schema is the official OASIS CAP 1.2 XML schema (CAP-v1.2.xsd, a copy of the
// design's shared data), kept with the code so that validation never depends on
// where the repository was cloned.
//
//go:embed CAP-v1.2.xsd
var Schema []byte

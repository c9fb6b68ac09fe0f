// Package consent validates, stores and normalises FHIR R4 privacy Consents.
//
// A consent enters through [Store.Put], which rejects anything it cannot read
// exactly (a misspelt provision field, an unknown modifier, an empty condition)
// instead of guessing: a consent read wrongly widens disclosure. Every version
// is kept, and [Normalize] turns a stored consent into the flat form the policy
// reads (the [Normalized] contract).
//
// # Storage
//
// The store lives in a bbolt file shared with other packages, under its own
// versioned root bucket. Keys sort as shown; "|" stands for one 0x00 byte and
// integers are 8-byte big-endian.
//
//	consent/                              root bucket of this package
//	└── v1/                               schema version
//	    ├── heads/
//	    │   └── <id> → <version>          latest version of each consent
//	    ├── versions/
//	    │   └── <id>|<version> → envelope every version ever stored
//	    ├── patients/
//	    │   └── <patient>|<id> → ""       which consents belong to a patient
//	    └── patient_versions/
//	        └── <patient> → <counter>     bumped on any change to that patient's consents
//
// An envelope is one line of header JSON ({"patient":..,"status":..,"updated":..}),
// a newline, then the stored resource exactly as [Record.JSON] returns it. Ids are
// FHIR ids ([A-Za-z0-9\-.]{1,64}) and patients are "Patient/<id>", so neither can
// contain the 0x00 separator.
package consent

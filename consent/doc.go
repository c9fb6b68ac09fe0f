// Package consent validates, stores and normalises FHIR R4 privacy Consents,
// and R5 ones, stored as sent and read through the R4 model (r5.go).
//
// Consents the upstream FHIR server holds are normalised by
// [NormalizeUpstream] (or stand in as a denial, [Unreadable]) and combined
// with local ones by [Merge], whose rule never lets a second copy of a
// consent add permissions. [ExpandActors] names each actor by all its forms
// (reference and identifiers) through an [ActorResolver] such as a
// [Directory].
//
// A consent enters through [Store.Put], [Store.Create] or [Store.Update],
// which reject anything they cannot read exactly (a misspelt provision field,
// an unknown modifier, an empty condition, a purpose of use that is not a
// v3-ActReason code, a class that is not an R4 resource type) instead of
// guessing: a consent read wrongly widens disclosure. Every version is kept
// ([Store.Version], [Store.History]); [Store.Revoke] ends a consent by
// storing a new version with status inactive (or entered-in-error, rejected).
// [Store.Search] implements the FHIR search parameters patient, status,
// actor, category and period.
//
// # Reading a consent
//
// [Normalize] turns a stored consent into the flat form the policy reads (the
// [Normalized] contract, rego/schema/input.schema.json): one [Rule] per
// provision, carrying the conditions of every level from the root down. The
// root provision's type is the base decision. R4 forbids it on the root
// ("Not permitted in root rule, required in all nested rules") and derives
// the base decision from Consent.policyRule, so a root without type takes
// OPTIN → permit, OPTOUT → deny, and anything else (42CFRPart2, another
// policy, none, or OPTIN and OPTOUT together) → deny, the conservative
// reading. An explicit root type (R5-style, IHE PCF) is kept.
// [Normalized.RootTypeFrom] says which applied. A consent without provision
// gets one rule, at path "policyRule", with that base decision. A nested
// provision without type (R4 requires one) is read as an exception to its
// parent, i.e. the opposite type.
//
// Several of the HL7 R4 examples pair OPTIN with a narrative that withholds
// (testdata/hl7-r4): ds4p follows the computable content, as the
// specification says.
//
// # Caching
//
// [Store.Normalized] serves the response pipeline: the normalised consents of
// one patient, cached in a bounded LRU ([WithCacheSize]) keyed by the
// patient's consent version, which every write bumps in the same bbolt
// transaction. A stored or revoked consent therefore counts from the very next
// request; a hit costs one read transaction (about a microsecond).
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
//	    ├── patient_versions/
//	    │   └── <patient> → <counter>     bumped on any change to that patient's consents
//	    ├── meta/
//	    │   └── version → 1 byte           2: encrypted (absent: plaintext, 1)
//	    └── upstream/                     the upstream's consents, as last synchronised (Mirror)
//	        ├── consents/
//	        │   └── <upstream id> → envelope
//	        ├── patients/
//	        │   └── <patient>|<upstream id> → ""
//	        └── meta/
//	            └── synced → JSON time of the last stored round
//
// In an encrypted store ([WithSealer], schema 2) every envelope (versions and
// upstream/consents) is sealed with AES-256-GCM (package internal/seal) and
// <patient> in the three patient-keyed buckets is the 16-byte HMAC-SHA256 of
// the patient, so the file names no patient. [Open] encrypts a plaintext
// store in one transaction; without its sealer it refuses an encrypted store
// before writing anything.
//
// An envelope is one line of header JSON ({"patient":..,"status":..,"updated":..}),
// a newline, then the stored resource exactly as [Record.JSON] returns it. Ids are
// FHIR ids ([A-Za-z0-9\-.]{1,64}) and patients are "Patient/<id>", so neither can
// contain the 0x00 separator.
package consent

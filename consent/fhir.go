package consent

import "encoding/json"

// The types below mirror the parts of the FHIR R4 JSON the package reads.
// Inside provision every field FHIR R4 defines is listed, so that decoding with
// DisallowUnknownFields (and the key scan, which reads the same json tags)
// rejects anything else.

// resourceJSON is the top level of an R4 Consent. Elements the package does
// not read are checked by name only (see topLevelKeys).
type resourceJSON struct {
	ResourceType      string            `json:"resourceType"`
	ID                string            `json:"id"`
	ImplicitRules     string            `json:"implicitRules"`
	ModifierExtension []json.RawMessage `json:"modifierExtension"`
	Status            string            `json:"status"`
	Scope             *codeableConcept  `json:"scope"`
	Patient           *reference        `json:"patient"`
	Policy            []policyJSON      `json:"policy"`
	PolicyRule        *codeableConcept  `json:"policyRule"`
	Provision         json.RawMessage   `json:"provision"`
	// Read for matching copies of one consent held in two places (merge.go).
	Identifier []identifier `json:"identifier"`
	Meta       *metaJSON    `json:"meta"`
	DateTime   string       `json:"dateTime"`
}

// metaJSON is the part of Resource.meta the package reads.
type metaJSON struct {
	VersionID   string `json:"versionId"`
	LastUpdated string `json:"lastUpdated"`
	Source      string `json:"source"`
}

// policyJSON is Consent.policy.
type policyJSON struct {
	Authority string `json:"authority"`
	URI       string `json:"uri"`
}

// provisionJSON is Consent.provision, recursively.
type provisionJSON struct {
	ID                string            `json:"id"`
	Extension         []json.RawMessage `json:"extension"`
	ModifierExtension []json.RawMessage `json:"modifierExtension"`
	Type              string            `json:"type"`
	Period            *period           `json:"period"`
	Actor             []actor           `json:"actor"`
	Action            []codeableConcept `json:"action"`
	SecurityLabel     []coding          `json:"securityLabel"`
	Purpose           []coding          `json:"purpose"`
	Class             []coding          `json:"class"`
	Code              []codeableConcept `json:"code"`
	DataPeriod        *period           `json:"dataPeriod"`
	Data              []data            `json:"data"`
	Provision         []provisionJSON   `json:"provision"`
}

// actor is Consent.provision.actor.
type actor struct {
	ID                string            `json:"id"`
	Extension         []json.RawMessage `json:"extension"`
	ModifierExtension []json.RawMessage `json:"modifierExtension"`
	Role              *codeableConcept  `json:"role"`
	Reference         *reference        `json:"reference"`
}

// data is Consent.provision.data.
type data struct {
	ID                string            `json:"id"`
	Extension         []json.RawMessage `json:"extension"`
	ModifierExtension []json.RawMessage `json:"modifierExtension"`
	Meaning           string            `json:"meaning"`
	Reference         *reference        `json:"reference"`
}

// period is the FHIR Period datatype.
type period struct {
	ID        string            `json:"id"`
	Extension []json.RawMessage `json:"extension"`
	Start     string            `json:"start"`
	End       string            `json:"end"`
}

// coding is the FHIR Coding datatype.
type coding struct {
	ID           string            `json:"id"`
	Extension    []json.RawMessage `json:"extension"`
	System       string            `json:"system"`
	Version      string            `json:"version"`
	Code         string            `json:"code"`
	Display      string            `json:"display"`
	UserSelected bool              `json:"userSelected"`
}

// codeableConcept is the FHIR CodeableConcept datatype.
type codeableConcept struct {
	ID        string            `json:"id"`
	Extension []json.RawMessage `json:"extension"`
	Coding    []coding          `json:"coding"`
	Text      string            `json:"text"`
}

// reference is the FHIR Reference datatype.
type reference struct {
	ID         string            `json:"id"`
	Extension  []json.RawMessage `json:"extension"`
	Reference  string            `json:"reference"`
	Type       string            `json:"type"`
	Identifier *identifier       `json:"identifier"`
	Display    string            `json:"display"`
}

// identifier is the FHIR Identifier datatype.
type identifier struct {
	ID        string            `json:"id"`
	Extension []json.RawMessage `json:"extension"`
	Use       string            `json:"use"`
	Type      *codeableConcept  `json:"type"`
	System    string            `json:"system"`
	Value     string            `json:"value"`
	Period    *period           `json:"period"`
	Assigner  *reference        `json:"assigner"`
}

// topLevelKeys are the elements of an R4 Consent, plus the "_x" siblings that
// carry extensions of its primitive elements. Any other top-level key is an
// error: "provisions" must not silently drop the provision.
var topLevelKeys = map[string]bool{
	"resourceType": true, "id": true, "meta": true, "implicitRules": true,
	"language": true, "text": true, "contained": true, "extension": true,
	"modifierExtension": true, "identifier": true, "status": true, "scope": true,
	"category": true, "patient": true, "dateTime": true, "performer": true,
	"organization": true, "sourceAttachment": true, "sourceReference": true,
	"policy": true, "policyRule": true, "verification": true, "provision": true,
	"_id": true, "_implicitRules": true, "_language": true, "_status": true,
	"_dateTime": true,
}

// statuses is the R4 consent-state-codes value set.
var statuses = map[string]bool{
	"draft": true, "proposed": true, "active": true, "rejected": true,
	"inactive": true, "entered-in-error": true,
}

const (
	scopeSystem  = "http://terminology.hl7.org/CodeSystem/consentscope"
	scopePrivacy = "patient-privacy"
)

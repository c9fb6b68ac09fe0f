package policy

// InputVersion is the version of the input/decision contract; see rego/schema.
// Fields added since version 1 was first published are optional on both
// sides (decision: notices, break_glass, redact, mask; reason: labels).
const InputVersion = "1"

// Effects of a decision.
const (
	Permit = "permit"
	Deny   = "deny"
	Redact = "redact"
	// Mask discloses the item with the values of the elements labelled by
	// any label in Decision.Mask masked: the elements stay for structure,
	// their text reads "masked", and the item carries the integrity label
	// MASKED.
	Mask = "mask"
)

// Input is everything one evaluation may depend on: the request context
// (caller, request, patient and the patient's consents) and one decision
// class (item). See the package documentation for the guarantee this gives.
type Input struct {
	Version  string  `json:"version"`
	Caller   Caller  `json:"caller"`
	Request  Request `json:"request"`
	Patient  string  `json:"patient"`
	Consents []any   `json:"consents"`
	Item     Item    `json:"item"`
	// CallerIsPatient is set when the caller is the patient the item
	// belongs to: the token's fhirUser (Caller.FHIRUser) is Patient.
	// The policy decides a patient's access to their own record with it
	// (45 CFR 164.524, 42 CFR 2.23) without reading Patient, so that
	// decisions stay shared across patients. Sent only when true.
	CallerIsPatient bool `json:"caller_is_patient,omitempty"`
	// Brief asks for brief reasons (input.brief): a deny's summarised in
	// one, a permit's consent reasons cut to the rule and the consent. For
	// callers that use only the effect, obligations, notices and consents
	// relied on, like the proxy's response path; explanations leave it
	// false.
	Brief bool `json:"brief,omitempty"`
	// ConsentKey names the consent versions in Consents (see ConsentKey).
	// When set, the engine caches the consents' policy form and the
	// decisions made with them across requests; when empty, nothing about
	// this input is cached. The engine keeps the Consents slice while it
	// caches their form, and tells by the identity of its values that a
	// later input's consents are the same: do not modify them after the
	// call (give changed consents as new values).
	ConsentKey string `json:"-"`
}

// Caller is who asks, as the verified token says.
type Caller struct {
	Subject        string      `json:"subject"`
	Org            string      `json:"org"`
	OrgIdentifiers []string    `json:"org_identifiers"`
	Client         string      `json:"client"`
	Scopes         []string    `json:"scopes"`
	Purposes       []string    `json:"purposes"`
	BreakGlass     *BreakGlass `json:"break_glass"`
	// FHIRUser is the token's SMART fhirUser claim as Type/id
	// ("Patient/p1" when the patient signed in), "" when it has none.
	FHIRUser string `json:"fhir_user,omitempty"`
}

// BreakGlass is a caller's emergency-access claim (42 CFR 2.51) and the
// lifetime of the token that carries it, which the policy time-boxes.
type BreakGlass struct {
	Reason string `json:"reason"`
	// IssuedAt and ExpiresAt are the token's iat and exp in unix seconds;
	// 0 when the token has none.
	IssuedAt  int64 `json:"issued_at"`
	ExpiresAt int64 `json:"expires_at"`
}

// Request describes the FHIR interaction being answered.
type Request struct {
	Interaction string `json:"interaction"`
	Type        string `json:"type"`
	TimeNS      int64  `json:"time_ns"`
}

// Item is one decision class: the shared type, labels and source of the
// items it stands for. Labels are "system|code" strings; Source is "part2"
// for a record of a 42 CFR Part 2 program (the labeller's source rules),
// empty otherwise.
type Item struct {
	Type   string   `json:"type"`
	Labels []string `json:"labels"`
	Source string   `json:"source"`
	// Facts are what the item itself says that consent provisions can
	// name: its codes, its reference, its clinical date. The proxy sets
	// them only when the patient's consents have provisions with code,
	// data or dataPeriod, so that the items of other patients still share
	// one decision per class; they are then part of the class. Without
	// them the policy reads such provisions protectively (they match a
	// deny, never a permit).
	Facts *ItemFacts `json:"facts,omitempty"`
}

// ItemFacts are one resource's codes, reference and clinical date.
type ItemFacts struct {
	// Codes are the "system|code" codings of the resource's main code
	// elements (code, medicationCodeableConcept, vaccineCode, type,
	// category).
	Codes []string `json:"codes"`
	// Reference is the resource's "Type/id".
	Reference string `json:"reference"`
	// TimeNS is the clinical date of the resource in unix ns (see the
	// proxy's documentation of which element gives it, per type); nil
	// when the resource states none, which a data period reads
	// protectively.
	TimeNS *int64 `json:"time_ns,omitempty"`
	// TimeEndNS is the exclusive end of the span of instants the clinical
	// date may name, beginning at TimeNS ("2020" is a year, a Period its
	// whole length); nil reads TimeNS as one instant.
	TimeEndNS *int64 `json:"time_end_ns,omitempty"`
	// CarriedTypes, CarriedCodes and CarriedReferences are the types,
	// the codes (as Codes) and the Type/id of the resources the item
	// contains or carries: its contained resources, a contained Bundle's
	// entries and a contained Parameters' resources, theirs in turn, and
	// an operation's Parameters answer's resources. A deny naming a class,
	// a code or a record (meaning instance) applies when one of them
	// matches, as a contained resource is part of the record; a permit
	// reads the item's own facts only.
	CarriedTypes      []string `json:"carried_types,omitempty"`
	CarriedCodes      []string `json:"carried_codes,omitempty"`
	CarriedReferences []string `json:"carried_references,omitempty"`
}

// Decision is the policy's answer for one Item. Decisions may be shared
// between requests (see Engine): treat them as read-only.
type Decision struct {
	Effect string `json:"effect"`
	// Obligations are "system|code" security labels the proxy adds to each
	// disclosed item (e.g. 42CFRPart2, NORDSCLCD).
	Obligations []string `json:"obligations,omitempty"`
	// Notices must accompany the disclosure (e.g. the 42 CFR 2.32 notice).
	Notices []Notice `json:"notices,omitempty"`
	// BreakGlass is set when the item is disclosed only because of a
	// medical emergency (42 CFR 2.51): the ledger records the details.
	BreakGlass bool `json:"break_glass,omitempty"`
	// Redact names the labels of the elements to remove when Effect is
	// redact.
	Redact []string `json:"redact,omitempty"`
	// Mask names the labels of the elements to mask when Effect is mask.
	Mask     []string `json:"mask,omitempty"`
	Reasons  []Reason `json:"reasons"`
	Revision string   `json:"revision,omitempty"`
}

// Notice is a statement that must accompany a disclosure.
type Notice struct {
	ID         string `json:"id"`
	Regulation string `json:"regulation,omitempty"`
	Text       string `json:"text"`
}

// Reason says which rule, and which consent version and provision, led to a
// decision, and which labels were involved. Reasons go to explanations and
// the ledger, never to the caller.
type Reason struct {
	Rule      string   `json:"rule"`
	Message   string   `json:"message,omitempty"`
	Consent   string   `json:"consent,omitempty"`
	Version   string   `json:"version,omitempty"`
	Provision string   `json:"provision,omitempty"`
	Labels    []string `json:"labels,omitempty"`
}

// Permitted reports whether the decision lets the item leave unchanged.
func (d Decision) Permitted() bool { return d.Effect == Permit }

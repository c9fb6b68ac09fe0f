package policy

// InputVersion is the version of the input/decision contract; see rego/schema.
const InputVersion = "1"

// Effects of a decision.
const (
	Permit = "permit"
	Deny   = "deny"
	Redact = "redact"
)

// Input is everything one evaluation may depend on.
type Input struct {
	Version  string  `json:"version"`
	Caller   Caller  `json:"caller"`
	Request  Request `json:"request"`
	Patient  string  `json:"patient"`
	Consents []any   `json:"consents"`
	Item     Item    `json:"item"`
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
}

// BreakGlass is a caller's emergency-access claim (42 CFR 2.51).
type BreakGlass struct {
	Reason string `json:"reason"`
}

// Request describes the FHIR interaction being answered.
type Request struct {
	Interaction string `json:"interaction"`
	Type        string `json:"type"`
	TimeNS      int64  `json:"time_ns"`
}

// Item is one decision class: the shared type, labels and source of the
// items it stands for. Labels are "system|code" strings.
type Item struct {
	Type   string   `json:"type"`
	Labels []string `json:"labels"`
	Source string   `json:"source"`
}

// Decision is the policy's answer for one Item.
type Decision struct {
	Effect      string   `json:"effect"`
	Obligations []string `json:"obligations,omitempty"`
	Reasons     []Reason `json:"reasons"`
	Revision    string   `json:"revision"`
}

// Reason says which rule, and which consent version and provision, led to a
// decision. Reasons go to explanations and the ledger, never to the caller.
type Reason struct {
	Rule      string `json:"rule"`
	Message   string `json:"message,omitempty"`
	Consent   string `json:"consent,omitempty"`
	Version   string `json:"version,omitempty"`
	Provision string `json:"provision,omitempty"`
}

// Permitted reports whether the decision lets the item leave.
func (d Decision) Permitted() bool { return d.Effect == Permit }

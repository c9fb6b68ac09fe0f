package policy

import "github.com/open-policy-agent/opa/v1/ast"

// The keys of the input and decision contract, as terms made once: looking
// them up by string (ast.InternedTerm) on every decision costs a map lookup
// each, and allocated a new term for the keys OPA does not intern. Terms
// are immutable once built, so they are shared by every input and lookup.
var (
	kActors         = ast.StringTerm("actors")
	kAnyActor       = ast.StringTerm("any_actor")
	kBreakGlass     = ast.StringTerm("break_glass")
	kBrief          = ast.StringTerm("brief")
	kByActor        = ast.StringTerm("by_actor")
	kCaller         = ast.StringTerm("caller")
	kClient         = ast.StringTerm("client")
	kCodes          = ast.StringTerm("codes")
	kConditions     = ast.StringTerm("conditions")
	kConsent        = ast.StringTerm("consent")
	kConsents       = ast.StringTerm("consents")
	kData           = ast.StringTerm("data")
	kDataRefs       = ast.StringTerm("data_refs")
	kEffect         = ast.StringTerm("effect")
	kExpiresAt      = ast.StringTerm("expires_at")
	kFacts          = ast.StringTerm("facts")
	kFixedVerdicts  = ast.StringTerm("fixed_verdicts")
	kId             = ast.StringTerm("id")
	kIndex          = ast.StringTerm("index")
	kInteraction    = ast.StringTerm("interaction")
	kIssuedAt       = ast.StringTerm("issued_at")
	kItem           = ast.StringTerm("item")
	kLabels         = ast.StringTerm("labels")
	kMask           = ast.StringTerm("mask")
	kMessage        = ast.StringTerm("message")
	kNotices        = ast.StringTerm("notices")
	kObligations    = ast.StringTerm("obligations")
	kOrg            = ast.StringTerm("org")
	kOrgIdentifiers = ast.StringTerm("org_identifiers")
	kPatient        = ast.StringTerm("patient")
	kProvision      = ast.StringTerm("provision")
	kPurposes       = ast.StringTerm("purposes")
	kReason         = ast.StringTerm("reason")
	kReasons        = ast.StringTerm("reasons")
	kRedact         = ast.StringTerm("redact")
	kReference      = ast.StringTerm("reference")
	kRegulation     = ast.StringTerm("regulation")
	kRequest        = ast.StringTerm("request")
	kRule           = ast.StringTerm("rule")
	kRules          = ast.StringTerm("rules")
	kScopes         = ast.StringTerm("scopes")
	kSource         = ast.StringTerm("source")
	kSubject        = ast.StringTerm("subject")
	kText           = ast.StringTerm("text")
	kTimeNs         = ast.StringTerm("time_ns")
	kType           = ast.StringTerm("type")
	kVersion        = ast.StringTerm("version")
)

// keyName is a key term's string, for messages.
func keyName(k *ast.Term) string {
	s, _ := k.Value.(ast.String)
	return string(s)
}

package policy

import "github.com/open-policy-agent/opa/v1/ast"

// The keys of the input and decision contract are interned: without it
// every ast.InternedTerm of one of them allocates a new term, on every
// decision (~10 % of an ordinary decision's time). OPA allows interning
// only at initialisation.
func init() {
	ast.InternStringTerm(
		"actors",
		"any_actor",
		"break_glass",
		"brief",
		"by_actor",
		"caller",
		"client",
		"codes",
		"conditions",
		"consent",
		"consents",
		"data",
		"data_refs",
		"effect",
		"expires_at",
		"facts",
		"fixed_verdicts",
		"id",
		"index",
		"interaction",
		"issued_at",
		"item",
		"labels",
		"mask",
		"message",
		"notices",
		"obligations",
		"org",
		"org_identifiers",
		"patient",
		"provision",
		"purposes",
		"reason",
		"reasons",
		"redact",
		"reference",
		"regulation",
		"request",
		"rule",
		"rules",
		"scopes",
		"source",
		"subject",
		"text",
		"time_ns",
		"type",
		"version",
	)
}

package policy_test

import (
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// BenchmarkDecideDenyPurpose: the first Part 2 decision for a caller under
// a consent that permits the caller's organisation but denies research
// (HRESCH), a purpose the hierarchy specialises: the caller's purposes are
// matched against the narrower purposes of the deny (purpose_graph, built
// from the policy data alone, which the interpreter works out once per
// revision rather than once per decision).
func BenchmarkDecideDenyPurpose(b *testing.B) {
	c := tpoConsentForm()
	research := policy.ConsentCond{Actors: []string{}, Roles: []string{}, Purposes: []string{"HRESCH"}, Labels: []string{}, Classes: []string{},
		Codes: []string{}, Actions: []string{}, Data: []string{}, DataRefs: []policy.ConsentDataRef{}}
	c.Rules = append(c.Rules, policy.ConsentRule{Path: "provision.provision[0].provision[0]", Depth: 2, Type: "deny",
		Conditions: []policy.ConsentCond{c.Rules[0].Conditions[0], research}})
	in := sudInput("Organization/org-a", "TREAT")
	in.Consents = []any{c}
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
	in.Brief = true
	in.Item.Labels = []string{act + "42CFRPart2", act + "SUD", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"}
	eng := newEngine(b, policy.WithDecisionCache(0), policy.WithFixedVerdicts(false))
	if d, err := eng.Decide(b.Context(), in); err != nil || d.Effect != "permit" {
		b.Fatalf("the consent permits treatment: %+v (%v)", d, err)
	}
	benchDecide(b, in, eng)
}

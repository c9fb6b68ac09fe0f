package policy_test

import (
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// TestNestedProvisionDecidesQA38Q: a matching provision refines (decides
// instead of) a matching provision it is nested in, and only then: its
// path is the other's followed by ".". A permit nested in a deny lets the
// caller see the item; a permit whose path merely begins with the deny's
// (another branch, "provision.a" and "provision.ab.c"), or that is not
// deeper, leaves the deny deciding. Decided by the interpreter, brief and
// in full. It holds whether the policy builds the deny's path + "." in
// each decision or not.
func TestNestedProvisionDecidesQA38Q(t *testing.T) {
	none := func() policy.ConsentCond {
		return policy.ConsentCond{Actors: []string{}, Roles: []string{}, Purposes: []string{}, Labels: []string{}, Classes: []string{},
			Codes: []string{}, Actions: []string{}, Data: []string{}, DataRefs: []policy.ConsentDataRef{}}
	}
	orgA := none()
	orgA.Actors, orgA.Roles = []string{"Organization/org-a"}, []string{"IRCP"}
	treat := none()
	treat.Purposes = []string{"TREAT"}
	rule := func(path string, depth int, typ string) policy.ConsentRule {
		conds := []policy.ConsentCond{none()}
		if depth >= 1 {
			conds = append(conds, orgA)
		}
		if depth >= 2 {
			conds = append(conds, treat)
		}
		return policy.ConsentRule{Path: path, Depth: depth, Type: typ, Conditions: conds}
	}
	// Under a root permit: a deny of org-a at depth 1, and a permit for
	// org-a's treatment at depth 2 whose path varies.
	for _, c := range []struct {
		deny, permit string
		want         string
	}{
		{"provision.provision[0]", "provision.provision[0].provision[0]", policy.Permit},
		{"provision.provision[1]", "provision.provision[1].provision[3]", policy.Permit},
		{"provision.a", "provision.a.b", policy.Permit},
		{"provision.a", "provision.a.", policy.Permit},
		// another branch, whatever its depth
		{"provision.provision[1]", "provision.provision[10].provision[0]", policy.Deny},
		{"provision.provision[0]", "provision.provision[1].provision[0]", policy.Deny},
		{"provision.a", "provision.ab.c", policy.Deny},
		{"provision.a", "provision.a[0]", policy.Deny},
		{"provision.a", "provision.a", policy.Deny},
		{"provision.a", "provision.b.a.c", policy.Deny},
		{"provision.a", "xprovision.a.c", policy.Deny},
		{"provision.a", ".provision.a.c", policy.Deny},
	} {
		consent := &policy.Consent{
			ID: "c1", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
			Rules: []policy.ConsentRule{rule("provision", 0, "permit"), rule(c.deny, 1, "deny"), rule(c.permit, 2, "permit")},
		}
		for _, brief := range []bool{true, false} {
			eng := newEngine(t, policy.WithDecisionCache(0))
			in := sudInput("Organization/org-a", "TREAT")
			in.Item.Labels = []string{act + "42CFRPart2", act + "SUD"}
			in.Consents = []any{consent}
			in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
			in.Brief = brief
			for range 2 { // the second with the context's fixed verdicts
				d, err := eng.Decide(t.Context(), in)
				if err != nil {
					t.Fatal(err)
				}
				if d.Effect != c.want {
					t.Errorf("deny at %q, permit at %q, brief %v: %s, want %s", c.deny, c.permit, brief, d.Effect, c.want)
				}
			}
			if st := eng.Status(); st.Evaluator != policy.EvaluatorIR {
				t.Fatalf("evaluator %v: the interpreter does not serve", st.Evaluator)
			}
		}
	}
}

package policy_test

import (
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// TestCallerNamesQA38Q: a consent names the caller by its organisation,
// its subject, its fhirUser or an organisation identifier, and never by an
// empty organisation or subject: a deny, nested in a permit of org-a's
// treatment, of each name withholds a Part 2 item from org-a, a deny of
// "" or of another name does not. Decided by the interpreter, brief and
// in full, twice each (the second with the context's fixed verdicts). It
// holds however the policy gathers the caller's names.
func TestCallerNamesQA38Q(t *testing.T) {
	none := func() policy.ConsentCond {
		return policy.ConsentCond{Actors: []string{}, Roles: []string{}, Purposes: []string{}, Labels: []string{}, Classes: []string{},
			Codes: []string{}, Actions: []string{}, Data: []string{}, DataRefs: []policy.ConsentDataRef{}}
	}
	orgA := none()
	orgA.Actors, orgA.Roles, orgA.Purposes = []string{"Organization/org-a"}, []string{"IRCP"}, []string{"TREAT"}
	consent := func(actor string) *policy.Consent {
		deny := none()
		deny.Actors, deny.Roles = []string{actor}, []string{"IRCP"}
		return &policy.Consent{
			ID: "c1", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
			Rules: []policy.ConsentRule{
				{Path: "provision", Depth: 0, Type: "deny", Conditions: []policy.ConsentCond{none()}},
				{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []policy.ConsentCond{none(), orgA}},
				{Path: "provision.provision[0].provision[0]", Depth: 2, Type: "deny", Conditions: []policy.ConsentCond{none(), orgA, deny}},
			},
		}
	}
	for _, c := range []struct {
		subject, fhirUser, deny, want string
	}{
		{"Practitioner/dr-x", "", "Practitioner/dr-x", policy.Deny},
		{"Practitioner/dr-x", "", "Organization/org-a", policy.Deny},
		{"Practitioner/dr-x", "", "http://example.org/ids|x", policy.Deny},
		{"Practitioner/dr-x", "", "Practitioner/dr-y", policy.Permit},
		{"Practitioner/dr-x", "", "", policy.Permit},
		{"", "", "", policy.Permit},
		{"", "Practitioner/dr-x", "Practitioner/dr-x", policy.Deny},
		{"", "Practitioner/dr-x", "", policy.Permit},
		{"u", "", "u", policy.Deny},
	} {
		for _, brief := range []bool{true, false} {
			eng := newEngine(t, policy.WithDecisionCache(0))
			in := sudInput("Organization/org-a", "TREAT")
			in.Caller.Subject, in.Caller.FHIRUser = c.subject, c.fhirUser
			in.Caller.OrgIdentifiers = []string{"http://example.org/ids|x"}
			in.Item.Labels = []string{act + "42CFRPart2", act + "SUD"}
			in.Consents = []any{consent(c.deny)}
			in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
			in.Brief = brief
			for range 2 {
				d, err := eng.Decide(t.Context(), in)
				if err != nil {
					t.Fatal(err)
				}
				if d.Effect != c.want {
					t.Errorf("caller subject %q, fhirUser %q, a deny of %q, brief %v: %s, want %s", c.subject, c.fhirUser, c.deny, brief, d.Effect, c.want)
				}
			}
			if st := eng.Status(); st.Evaluator != policy.EvaluatorIR {
				t.Fatalf("evaluator %v: the interpreter does not serve", st.Evaluator)
			}
		}
	}
}

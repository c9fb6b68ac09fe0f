package policy_test

import (
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// exceptionDenyingActor is a Part 2 consent that permits org-a's treatment
// and, nested in that permit, denies actor (the permit's actor level makes
// the deny a candidate for org-a whatever actor is, so the policy, not the
// engine's index, decides whether actor names the caller).
func exceptionDenyingActor(actor string) *policy.Consent {
	none := func() policy.ConsentCond {
		return policy.ConsentCond{Actors: []string{}, Roles: []string{}, Purposes: []string{}, Labels: []string{}, Classes: []string{},
			Codes: []string{}, Actions: []string{}, Data: []string{}, DataRefs: []policy.ConsentDataRef{}}
	}
	orgA := none()
	orgA.Actors, orgA.Roles, orgA.Purposes = []string{"Organization/org-a"}, []string{"IRCP"}, []string{"TREAT"}
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

// decideActorQA38Q decides a Part 2 item for org-a's treatment, with the
// organisation identifiers ids, under exceptionDenyingActor(actor), by the
// interpreter, brief and in full, twice each (the second with the
// context's fixed verdicts); it fails the test unless every decision is
// want.
func decideActorQA38Q(t *testing.T, ids []string, actor, want string) {
	t.Helper()
	for _, brief := range []bool{true, false} {
		eng := newEngine(t, policy.WithDecisionCache(0))
		in := sudInput("Organization/org-a", "TREAT")
		in.Caller.OrgIdentifiers = ids
		in.Item.Labels = []string{act + "42CFRPart2", act + "SUD"}
		in.Consents = []any{exceptionDenyingActor(actor)}
		in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
		in.Brief = brief
		for range 2 {
			d, err := eng.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != want {
				t.Errorf("caller's identifiers %q, a deny of %q, brief %v: %s, want %s", ids, actor, brief, d.Effect, want)
			}
		}
		if st := eng.Status(); st.Evaluator != policy.EvaluatorIR {
			t.Fatalf("evaluator %v: the interpreter does not serve", st.Evaluator)
		}
	}
}

// TestDenyOfAGroupActorQA38Q: a deny naming a Group, CareTeam,
// HealthcareService or Location (a type followed by "/") that
// config.designations does not list applies to every caller; a deny
// naming another type, one whose name only begins like one of those, or
// another organisation does not apply to org-a. It holds whether the
// policy builds the types' prefixes in each decision or once per revision.
func TestDenyOfAGroupActorQA38Q(t *testing.T) {
	for _, c := range []struct {
		actor, want string
	}{
		{"Group/g1", policy.Deny},
		{"CareTeam/ct1", policy.Deny},
		{"HealthcareService/hs1", policy.Deny},
		{"Location/l1", policy.Deny},
		{"CareTeam/", policy.Deny},
		{"Organization/org-a", policy.Deny},
		{"Organization/org-z", policy.Permit},
		{"CareTeamX/ct1", policy.Permit},
		{"Groups/g1", policy.Permit},
		{"Group", policy.Permit},
		{"group/g1", policy.Permit},
		{"Practitioner/Group/g1", policy.Permit},
	} {
		decideActorQA38Q(t, []string{}, c.actor, c.want)
	}
}

// TestDenyOfTheCallersNPIQA38Q: a deny naming the caller's NPI applies
// whichever of the system's two names (http://hl7.org/fhir/sid/us-npi, its
// OID urn:oid:2.16.840.1.113883.4.6) the token and the consent use; an
// identifier of another system, or one whose system only begins like the
// NPI's, is not taken for the other name. It holds whether the policy
// builds the systems' "system|" prefixes in each decision or once per
// revision.
func TestDenyOfTheCallersNPIQA38Q(t *testing.T) {
	const url, oid = "http://hl7.org/fhir/sid/us-npi", "urn:oid:2.16.840.1.113883.4.6"
	for _, c := range []struct {
		token, deny, want string
	}{
		{url + "|1234567893", oid + "|1234567893", policy.Deny},
		{oid + "|1234567893", url + "|1234567893", policy.Deny},
		{url + "|1234567893", url + "|1234567893", policy.Deny},
		{oid + "|1234567893", oid + "|1234567893", policy.Deny},
		{url + "|", oid + "|", policy.Deny},
		{url + "|1234567893", oid + "|1234567894", policy.Permit},
		{url + "|1234567893", oid + "|234567893", policy.Permit},
		{url + "#1234567893", oid + "|1234567893", policy.Permit},
		{url + "X|1234567893", oid + "|1234567893", policy.Permit},
		{oid + "7|1234567893", url + "|1234567893", policy.Permit},
		{"http://example.org/npi|1234567893", oid + "|1234567893", policy.Permit},
	} {
		decideActorQA38Q(t, []string{"http://example.org/ids|x", c.token}, c.deny, c.want)
	}
}

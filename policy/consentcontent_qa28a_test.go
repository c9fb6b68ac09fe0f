package policy

import (
	"context"
	"testing"
)

// TestConsentContentChangedUnderSameVersionsQA28A: the engine caches a
// patient's consents' policy form, the fixed verdicts of a response
// context and decisions under Input.ConsentKey, which names consent ids
// and versions. An upstream may change a consent without moving its
// version (versioning off, a restore, a re-create starting again at 1):
// the consents then come as other values under the same key, and nothing
// decided with the old content may answer for the new. A permit for org-a
// (cached, with its fixed verdicts) must not outlive the consent becoming a
// denial under the same id and version, for a class decided before or a
// new one.
func TestConsentContentChangedUnderSameVersionsQA28A(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := mustEngine(t)
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	const now = int64(1767225600000000000)
	consent := func(second string) *Consent {
		return &Consent{ID: "upstream:u1", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"},
			RootTypeFrom: "provision.type", Rules: []ConsentRule{
				{Path: "provision", Depth: 0, Type: "deny", Conditions: []ConsentCond{{}}},
				{Path: "provision.provision[0]", Depth: 1, Type: second, Conditions: []ConsentCond{{},
					{Actors: []string{"Organization/org-a"}, Purposes: []string{"TREAT"}}}}}}
	}
	in := func(c *Consent, labels ...string) Input {
		return Input{
			Caller:  Caller{Subject: "u", Org: "Organization/org-a", OrgIdentifiers: []string{}, Scopes: []string{}, Purposes: []string{"TREAT"}},
			Request: Request{Interaction: "search", Type: "Condition", TimeNS: now}, Patient: "Patient/p1", Brief: true,
			Consents: []any{c}, ConsentKey: ConsentKey([]ConsentVersion{{ID: c.ID, Version: c.Version}}),
			Item: Item{Type: "Condition", Labels: labels},
		}
	}
	classes := [][]string{{act + "SUD"}, {act + "SUD", act + "OPIOIDUD"}, {act + "SUD", act + "42CFRPart2"}}
	granted := consent("permit")
	for _, ls := range classes[:2] { // both decided and cached, the second with the context's fixed verdicts
		for range 2 {
			if d, err := eng.Decide(ctx, in(granted, ls...)); err != nil || d.Effect != Permit {
				t.Fatalf("granted, %v: %+v, %v", ls, d, err)
			}
		}
	}
	revoked := consent("deny") // the same id and version, another content
	for _, ls := range classes {
		if d, err := eng.Decide(ctx, in(revoked, ls...)); err != nil || d.Permitted() {
			t.Fatalf("the consent a denial under the same id and version, %v: %+v, %v", ls, d, err)
		}
	}
	// And back: the first content's decisions may serve it again.
	if d, err := eng.Decide(ctx, in(consent("permit"), classes[0]...)); err != nil || d.Effect != Permit {
		t.Fatalf("granted again: %+v, %v", d, err)
	}
}

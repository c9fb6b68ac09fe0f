package policy_test

import (
	"context"
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// TestDenyNamingACareTeamAppliesToEveryone: a patient's deny naming a care
// team, which no caller can be, withholds from every caller (QA round 29):
// read as naming no one, and so indexed under the team alone, it withheld
// nothing while the permit above it disclosed. Through the engine, with
// the consent index it builds.
func TestDenyNamingACareTeamAppliesToEveryone(t *testing.T) {
	t.Parallel()
	none := func() policy.ConsentCond {
		return policy.ConsentCond{Actors: []string{}, Roles: []string{}, Purposes: []string{}, Labels: []string{}, Classes: []string{},
			Codes: []string{}, Actions: []string{}, Data: []string{}, DataRefs: []policy.ConsentDataRef{}}
	}
	team := none()
	team.Actors, team.Roles = []string{"CareTeam/ct1"}, []string{"http://terminology.hl7.org/CodeSystem/v3-ParticipationType|IRCP"}
	c := &policy.Consent{
		ID: "c-ct", Version: "1", Status: "active", Patient: "Patient/p1", RootTypeFrom: "provision.type",
		Rules: []policy.ConsentRule{
			{Path: "provision", Depth: 0, Type: "permit", Conditions: []policy.ConsentCond{none()}},
			{Path: "provision.provision[0]", Depth: 1, Type: "deny", Conditions: []policy.ConsentCond{none(), team}},
		},
	}
	eng := newEngine(t)
	in := sudInput("Organization/org-a", "TREAT")
	in.Consents = []any{c}
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c-ct", Version: "1"}})
	d, err := eng.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Permitted() {
		t.Fatalf("org-a read past the patient's deny of a care team: %+v", d)
	}
}

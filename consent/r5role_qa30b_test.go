package consent

import (
	"slices"
	"strings"
	"testing"
)

// TestR5ActorRoleOptionalQA30B: an R5 actor may leave out its role (0..1)
// and is read with no role code; an R4 actor may not (1..1) (QA round 30,
// area B).
func TestR5ActorRoleOptionalQA30B(t *testing.T) {
	t.Parallel()
	const r5 = `{"resourceType":"Consent","id":"r","status":"active","subject":{"reference":"Patient/p1"},"date":"2026-01-01","decision":"deny",
	 "provision":[{"actor":[{"reference":{"reference":"Organization/org-a"}},
	   {"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-c"}}]}]}`
	n, err := Normalize(Record{ID: "r", Version: 1, JSON: []byte(r5)})
	if err != nil {
		t.Fatal(err)
	}
	c := n.Rules[len(n.Rules)-1].Conditions
	last := c[len(c)-1]
	if !slices.Equal(last.Actors, []string{"Organization/org-a", "Organization/org-c"}) || !slices.Equal(last.Roles, []string{"IRCP"}) {
		t.Errorf("actors %v roles %v", last.Actors, last.Roles)
	}
	const noRole = `{"resourceType":"Consent","id":"x","status":"active","patient":{"reference":"Patient/p1"},
	 "provision":{"type":"deny","provision":[{"type":"permit","actor":[{"reference":{"reference":"Organization/org-a"}}]}]}}`
	if _, err := Validate([]byte(noRole)); err == nil || !strings.Contains(err.Error(), "Consent.provision.provision[0].actor[0].role") {
		t.Errorf("an R4 actor without role: %v, want it refused", err)
	}
}

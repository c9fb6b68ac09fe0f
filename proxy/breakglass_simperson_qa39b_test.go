package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSimulationIgnoresPersonBreakGlassQA39B: the edge ignores the
// emergency claim of a RelatedPerson or a Person (7eabfb5), but
// /admin/decide ignored a simulated patient's only: a policy author
// simulating a caregiver's token with ETREAT and a reason was told the
// Part 2 Condition is disclosed under 42 CFR 2.51, where the same token
// gets nothing. A clinician's simulated claim still counts.
func TestSimulationIgnoresPersonBreakGlassQA39B(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for who, want := range map[string]string{
		"RelatedPerson/mother": "deny",
		"Person/carer":         "deny",
		"https://other.example/fhir/RelatedPerson/mother": "deny",
		"Practitioner/dr-er":                              "permit",
	} {
		body := strings.Replace(decideBody("Organization/er", "ETREAT", "cardiac arrest", "", part2Condition), `"subject":"sim"`, `"subject":"sim","fhir_user":"`+who+`"`, 1)
		resp, out := h.post("/admin/decide", tokAdmin, body)
		var got DecideResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(out), &got) != nil || len(got.Items) != 1 {
			t.Fatalf("%s: %d %s", who, resp.StatusCode, out)
		}
		if d := got.Items[0].Decision; d.Effect != want || want == "deny" && d.BreakGlass {
			t.Errorf("%s's simulated emergency claim: %s, want %s", who, out, want)
		}
	}
}

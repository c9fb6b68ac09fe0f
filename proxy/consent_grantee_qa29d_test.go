package proxy

import (
	"encoding/json"
	"testing"
)

// TestR5GranteeAloneReceivesQA29D: an R5 consent that permits (decision
// permit) and gives the permission to its grantee, Organization/org-a,
// naming no actor in its provisions, discloses the patient's HIV and
// mental-health records to org-a for payment and to no one else. Read as
// R4, which has no grantee, it permitted every caller: org-b, which the
// consent does not name, read what without the consent it is refused
// (QA round 29, area D).
func TestR5GranteeAloneReceivesQA29D(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	const r5 = `[{"resourceType":"Consent","id":"r5g","status":"active","subject":{"reference":"Patient/p1"},"date":"2026-01-01",
	  "grantee":[{"reference":"Organization/org-a"}],"decision":"permit",
	  "regulatoryBasis":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}]}]`
	const (
		psy = `{"resourceType":"Condition","id":"psy","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F32.9"}]}}`
		hiv = `{"resourceType":"Condition","id":"hiv","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"}]}}`
	)
	for _, tt := range []struct {
		name, org, consents, want string
	}{
		{"the grantee", "Organization/org-a", r5, "permit"},
		{"another organisation", "Organization/org-b", r5, "deny"},
		{"another organisation, no consent", "Organization/org-b", "[]", "deny"},
	} {
		resp, out := h.post("/admin/decide", tokAdmin, decideBody(tt.org, "HPAYMT", "", tt.consents, psy, hiv))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tt.name, resp.StatusCode, out)
		}
		var got DecideResponse
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 2 {
			t.Fatalf("%s: %s", tt.name, out)
		}
		for _, it := range got.Items {
			if it.Decision.Effect != tt.want {
				t.Errorf("%s: %s %s, want %s", tt.name, it.ID, it.Decision.Effect, tt.want)
			}
		}
	}
}

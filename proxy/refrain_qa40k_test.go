package proxy

import (
	"net/http"
	"testing"
)

// TestRefrainSpellingsQA40K (QA round 40, area K, review of I-2): every
// refrain that forbids (re)disclosure without the patient's consent,
// however it is spelled, withholds a received item from org-b.
func TestRefrainSpellingsQA40K(t *testing.T) {
	t.Parallel()
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	cases := map[string]string{
		"NORDSCLCD":  `"meta":{"security":[{"system":"` + act + `","code":"NORDSCLCD"}]}`,
		"NORDSCLCDS": `"meta":{"security":[{"system":"` + act + `","code":"NORDSCLCDS"}]}`,
		"NODSCLCDS":  `"meta":{"security":[{"system":"` + act + `","code":"NODSCLCDS"}]}`,
		"no system":  `"meta":{"security":[{"code":"NORDSCLCD"}]}`,
		"oid":        `"meta":{"security":[{"system":"urn:oid:2.16.840.1.113883.5.4","code":"NODSCLCD"}]}`,
		"pre-THO":    `"meta":{"security":[{"system":"http://hl7.org/fhir/v3/ActCode","code":"NORDSCLCD"}]}`,
		"tag":        `"meta":{"tag":[{"system":"` + act + `","code":"NORDSCLCD"}]}`,
		"lower case": `"meta":{"security":[{"system":"` + act + `","code":"nordsclcd"}]}`,
	}
	for name, meta := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"},` + meta + `}`
			h := newHarness(t, fhirJSONHandler(http.StatusOK, obs))
			if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound {
				t.Errorf("org-b: %d %s, want 404", resp.StatusCode, body)
			}
		})
	}
}

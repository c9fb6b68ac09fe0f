package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 36, area A: an Observation whose only sensitive trace is the
// SUD label its EHR wrote in meta.security as a CodeableConcept (invalid
// FHIR JSON a lax server stores) went to org-b, 200, "Opioid use disorder"
// and all: the labeller read the entry as no label. It now fails the
// labelling, which withholds: org-b gets no Opioid, on a read and in a
// search.
func TestSecurityEntryNotACodingWithheldQA36A(t *testing.T) {
	t.Parallel()
	const o = `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"},` +
		`"meta":{"security":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}]}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Observation") {
			fhirJSONHandler(200, bundle(h0base(r), 2, false, o, bpObs))(w, r)
			return
		}
		fhirJSONHandler(200, o)(w, r)
	})
	resp, body := h.get("/fhir/Observation/o1", tokOther)
	if resp.StatusCode == 200 || strings.Contains(body, "Opioid") {
		t.Errorf("read: %d %s; want withheld", resp.StatusCode, body)
	}
	t.Logf("read: %d %.300s", resp.StatusCode, body)
	resp, body = h.get("/fhir/Observation?subject=p1", tokOther)
	if strings.Contains(body, "Opioid") {
		t.Errorf("search: %d %s; want no Opioid", resp.StatusCode, body)
	}
	t.Logf("search: %d %.300s", resp.StatusCode, body)
}

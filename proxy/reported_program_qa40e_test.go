package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestReportedByProgramWithheldQA40E: a hospital's MedicationRequest for
// an ordinary drug that the Part 2 program reported (reportedReference)
// went to org-b, whom p1's consent does not permit, as ordinary data (200),
// telling it that p1 is treated by the program. The consented caller still
// reads it.
func TestReportedByProgramWithheldQA40E(t *testing.T) {
	t.Parallel()
	mr := `{"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},` +
		`"medicationCodeableConcept":{"text":"amoxicillin"},"reportedReference":{"reference":"Organization/p2"}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/Organization/") {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
			return
		}
		fhirJSONHandler(http.StatusOK, mr)(w, r)
	}, withProgram)
	if resp, body := h.get("/fhir/MedicationRequest/m1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/MedicationRequest/m1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "42CFRPart2") {
		t.Errorf("consented: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
}

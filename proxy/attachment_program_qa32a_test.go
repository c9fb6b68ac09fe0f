package proxy

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestAttachedProgramDocumentWithheldQA32A: an ordinary hospital's
// DocumentReference holding a Part 2 program's discharge summary (its
// custodian the program) went to org-b, whom the patient's consent does
// not permit, whole: the attachment was read for codes, not for its
// source. The consented caller still reads it.
func TestAttachedProgramDocumentWithheldQA32A(t *testing.T) {
	t.Parallel()
	doc := `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","status":"final","type":{"text":"discharge summary"},"custodian":{"reference":"Organization/p2"},"title":"t","date":"2026-01-01","author":[{"display":"x"}]}}]}`
	dr := `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` +
		base64.StdEncoding.EncodeToString([]byte(doc)) + `"}}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/Organization/") {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
			return
		}
		fhirJSONHandler(http.StatusOK, dr)(w, r)
	}, withProgram)
	if resp, body := h.get("/fhir/DocumentReference/d1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/DocumentReference/d1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Errorf("consented: %d %s, want 200", resp.StatusCode, body)
	}
}

package proxy

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestFHIRJSONAttachmentIsInspectedQA31C: an attachment's data is decoded
// and its codes labelled when its contentType is XML (4418ec3: a C-CDA),
// not when it is FHIR JSON. A DocumentReference of no sensitive type whose
// attachment is an application/fhir+json document Bundle holding an
// opioid use disorder Condition (F11.20) went whole to org-b, whom the
// patient's consent does not name, as an ordinary document. Read as the
// XML case is, its codes label the DocumentReference and the data goes
// (or the resource is withheld).
func TestFHIRJSONAttachmentIsInspectedQA31C(t *testing.T) {
	t.Parallel()
	cond := `{"resourceType":"Condition","id":"c9","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	data := base64.StdEncoding.EncodeToString([]byte(`{"resourceType":"Bundle","type":"document","entry":[{"resource":` + cond + `}]}`))
	for _, ct := range []string{"application/fhir+json", "application/json", "application/fhir+json; fhirVersion=4.0"} {
		doc := `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + data + `"}}]}`
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/Patient/") {
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p1"}`)(w, r)
				return
			}
			fhirJSONHandler(http.StatusOK, doc)(w, r)
		})
		if resp, out := h.get("/fhir/DocumentReference/d1", tokOther); strings.Contains(out, data) {
			t.Errorf("%s: org-b got the attached document with its SUD condition: %d", ct, resp.StatusCode)
		}
	}
}

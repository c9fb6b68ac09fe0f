package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 30 (area F), on d042657 (no change in behaviour): a Patient's
// identifier whose assigner is a Part 2 program (the program's MRN) is cut
// for a caller who may not read the program's records. A search of
// Patients by that identifier's system (Patient?identifier=<the program's
// MRN system>|, any value) must not answer the Patients so found to such a
// caller, which would list the program's patients as
// Patient?organization=<the program> would (refused): the match was
// selected on the cut element and is withheld (the cut-search rule).
func TestPatientSearchByProgramAssignedIdentifierQA30F(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"identifier":[` +
		`{"system":"urn:oid:2.16.840.1.113883.3.999.1","value":"RR-77","assigner":{"reference":"Organization/p2"}},` +
		`{"system":"urn:mrn","value":"123"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		ident := r.URL.Query().Get("identifier")
		if strings.HasPrefix(ident, "urn:oid:2.16.840.1.113883.3.999.1|") {
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
	}, withProgram)
	for _, path := range []string{
		"/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.999.1|",
		"/fhir/Patient?identifier=urn:oid:2.16.840.1.113883.3.999.1|RR-77",
	} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode == http.StatusOK && strings.Contains(body, `"p1"`) {
			t.Errorf("%s: the program's patient was answered to a caller who may not read its records: %s", path, body)
		}
		// The search reached the server: a caller with the patient's
		// consent finds the patient, the identifier labelled inline.
		if resp, body := h.get(path, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"RR-77"`) {
			t.Errorf("%s, consented: %d %s", path, resp.StatusCode, body)
		}
	}
}

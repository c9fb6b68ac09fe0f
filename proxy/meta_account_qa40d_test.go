package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientMetaAccountProgramQA40D: Medplum keeps the organisation that
// owns a resource in meta.account (meta.accounts in Medplum 4 and later,
// set by Patient/$set-accounts) and lists it in meta.compartment. A
// Patient owned so by the Part 2 program went to org-b, who may not read
// the program's records, with the program named in its meta: the person
// is the program's patient (42 CFR 2.13(c)), as a managingOrganization
// naming it would tell, which is cut. The consented caller still reads it.
func TestPatientMetaAccountProgramQA40D(t *testing.T) {
	t.Parallel()
	for name, pat := range map[string]string{
		"meta.account":     `{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","account":{"reference":"Organization/p2"}},"name":[{"family":"Doe"}]}`,
		"meta.accounts":    `{"resourceType":"Patient","id":"p1","meta":{"accounts":[{"reference":"Organization/p9"},{"reference":"Organization/p2"}]},"name":[{"family":"Doe"}]}`,
		"meta.compartment": `{"resourceType":"Patient","id":"p1","meta":{"compartment":[{"reference":"Patient/p1"},{"reference":"Organization/p2"}]},"name":[{"family":"Doe"}]}`,
		"meta.extension":   `{"resourceType":"Patient","id":"p1","meta":{"extension":[{"url":"http://example.org/owner","valueReference":{"reference":"Organization/p2"}}]},"name":[{"family":"Doe"}]}`,
	} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/Organization/p2") {
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`)(w, r)
				return
			}
			if strings.Contains(r.URL.Path, "/Organization/") { // p9, an ordinary organisation the Patient names (read since QA round 41, area I)
				fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
				return
			}
			fhirJSONHandler(http.StatusOK, pat)(w, r)
		}, withProgram)
		resp, body := h.get("/fhir/Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Doe"`) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
			continue
		}
		if strings.Contains(body, "Organization/p2") || strings.Contains(body, "42CFRPart2") {
			t.Errorf("%s: a caller who may not read the program's records is told the person is its patient: %s", name, body)
		}
		if resp, body := h.get("/fhir/Patient/p1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Organization/p2") {
			t.Errorf("%s: consented caller: %d %s", name, resp.StatusCode, body)
		}
	}
}

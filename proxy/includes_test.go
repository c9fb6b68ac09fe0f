package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestOrphanIncludesWithheld: an included resource that only withheld
// matches reference goes with them (it would show what they pointed at);
// includes a disclosed match references, or that reference a disclosed
// match (_revinclude), stay; with nothing withheld, every include stays.
// The leak oracle (test/oracle) found the first case against Medplum.
func TestOrphanIncludesWithheld(t *testing.T) {
	t.Parallel()
	sudAtClinic := strings.Replace(sudCondition, `"subject"`, `"encounter":{"reference":"Encounter/enc9"},"recorder":{"reference":"Practitioner/clinician"},"subject"`, 1)
	const (
		clinician = `{"resourceType":"Practitioner","id":"clinician","name":[{"family":"Program"}]}`
		note      = `{"resourceType":"Observation","id":"rev1","status":"final","subject":{"reference":"Patient/p1"},"hasMember":[{"reference":"Observation/bp1"}],"code":{"text":"weight"}}`
		unrelated = `{"resourceType":"Practitioner","id":"nobody"}`
		chained   = `{"resourceType":"Organization","id":"hosp"}`
	)
	patientWithOrg := `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/hosp"}}`
	handler := func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/Condition") { // a read of a referenced resource (Encounter/enc9)
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		b := bundle(h0base(r), -1, false, sudAtClinic, bpObs)
		inc := func(res string) string { return `,{"resource":` + res + `,"search":{"mode":"include"}}` }
		b = b[:len(b)-2] + inc(clinician) + inc(patientWithOrg) + inc(note) + inc(unrelated) + inc(chained) + `]}`
		fhirJSONHandler(200, b)(w, r)
	}
	h := newHarness(t, handler)
	resp, body := h.get("/fhir/Condition?subject=p1&_include=Condition:recorder", tokOther)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, gone := range []string{sudMarker, `"id":"clinician"`, `"id":"nobody"`} {
		if strings.Contains(body, gone) {
			t.Errorf("withheld match's include %s still there: %s", gone, body)
		}
	}
	for _, kept := range []string{`"id":"bp1"`, `"id":"p1"`, `"id":"rev1"`, `"id":"hosp"`} {
		if !strings.Contains(body, kept) {
			t.Errorf("%s was removed: %s", kept, body)
		}
	}
	if _, body := h.get("/fhir/Condition?subject=p1&_include=Condition:recorder", tokConsented); !strings.Contains(body, `"id":"clinician"`) || !strings.Contains(body, `"id":"nobody"`) {
		t.Errorf("nothing withheld, yet an include went: %s", body)
	}
}

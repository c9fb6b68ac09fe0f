package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 35 (area B): Patient/p1/$everything answers the Patient itself,
// whatever start, end and _since select among the other resources. The
// cut-search rule did not know start and end (every member read) and read
// meta for _since, so an enrolled Patient, its managingOrganization or
// meta.source cut silently, was left out of
// Patient/p1/$everything?start=2020-01-01 and ?_since=..., where a patient
// not enrolled is answered, and the plain $everything answers it: its
// absence told org-b of the enrolment.
func TestEverythingKeepsEnrolledPatientQA35B(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","lastUpdated":"2024-01-01T00:00:00Z","source":"https://riverside-recovery.example/ehr#a1"},` +
		`"name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/p2"}}`
	obs := `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, pat)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Organization/p2"):
			fhirJSONHandler(200, `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"a","resource":`+pat+`,"search":{"mode":"match"}},{"fullUrl":"b","resource":`+obs+`,"search":{"mode":"match"}}]}`)(w, r)
		}
	}, withProgramSource)
	for _, q := range []string{
		"",
		"?start=2020-01-01",
		"?start=2020-01-01&end=2030-01-01",
		"?_since=2020-01-01T00:00:00Z",
		"?_since=2020-01-01T00:00:00Z&_type=Patient,Observation&end=2030",
	} {
		resp, body := h.get("/fhir/Patient/p1/$everything"+q, tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"p1"`) || !strings.Contains(body, `"id":"o1"`) ||
			strings.Contains(body, "riverside") || strings.Contains(body, "Organization/p2") {
			t.Errorf("$everything%s: %d %s", q, resp.StatusCode, body)
		}
	}
}

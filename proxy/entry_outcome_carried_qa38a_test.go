package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// The dates of a resource in a contained collection's entry.response.outcome
// count for the record as an entry's resource's do (8ff7eae): p1's
// DiagnosticReport of January 2021 holding the screen of August 2020 there
// went whole to org-a, whom p1's consent refuses the second half of 2020.
func TestDataPeriodReadsOutcomeDatesQA38A(t *testing.T) {
	t.Parallel()
	report := `{"resourceType":"DiagnosticReport","id":"x1","subject":{"reference":"Patient/p1"},` +
		`"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},` +
		`"status":"final","code":{"text":"toxicology"},"effectiveDateTime":"2021-01-10T00:00:00Z",` +
		`"contained":[{"resourceType":"Bundle","id":"b1","type":"collection","entry":[{"response":{"status":"200","outcome":` +
		`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"urine drug screen"},"effectiveDateTime":"2020-08-10T00:00:00Z","valueString":"positive"}}}]}]}`
	h := newHarness(t, fhirJSONHandler(200, report), func(_ *Options, d *Deps) {
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {dataPeriodConsent()}}}
	})
	resp, body := h.get("/fhir/DiagnosticReport/x1", tokConsented)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-a: %d %.200s, want 404", resp.StatusCode, body)
	}
}

// An entry's OperationOutcome outcome is not labelled as a resource is,
// only stripped of its free text: a Condition labelled R in its contained
// array, or text in its extensions, went to org-b with it. Both go now.
func TestEntryOutcomeCarriesNothingQA38A(t *testing.T) {
	t.Parallel()
	condR := `{"resourceType":"Condition","id":"c1","meta":{"security":[` + qa36eR + `]},"subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	ord := `{"resourceType":"Observation","id":"o9","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`
	for name, oo := range map[string]string{
		"contained": `{"resourceType":"OperationOutcome","contained":[` + condR + `],"issue":[{"severity":"information","code":"informational"}]}`,
		"extension": `{"resourceType":"OperationOutcome","extension":[{"url":"http://x/e","valueString":"Opioid use disorder"}],"issue":[{"severity":"information","code":"informational"}]}`,
	} {
		for _, typ := range []string{"collection", "batch-response"} {
			body := `{"resourceType":"Bundle","id":"b1","type":"` + typ + `","entry":[{"fullUrl":"urn:uuid:o9","resource":` + ord + `,"response":{"status":"200 OK","outcome":` + oo + `}}]}`
			h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": body}))
			resp, got := h.do(http.MethodGet, "/fhir/Bundle/b1", tokOther, "", "")
			if resp.StatusCode != http.StatusOK || strings.Contains(got, "Opioid") || !strings.Contains(got, `"informational"`) || !json.Valid([]byte(got)) {
				t.Errorf("%s, %s, org-b: %d %.400s, want the Bundle without it", name, typ, resp.StatusCode, got)
			}
		}
	}
}

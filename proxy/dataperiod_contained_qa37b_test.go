package proxy

import (
	"net/http"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestDataPeriodReadsContainedDatesQA37B: a contained resource is part of
// the record, and its dates are the record's. p1's consent refuses org-a
// the data of the second half of 2020; a DiagnosticReport of January 2021
// holding the urine drug screen of August 2020 it reports, as a contained
// Observation, was dated by the report alone and went to org-a whole
// (200). Its span now runs over the contained resources' dates too; a
// contained resource whose date cannot be read leaves the record none.
func TestDataPeriodReadsContainedDatesQA37B(t *testing.T) {
	t.Parallel()
	report := func(contained string) string {
		return `{"resourceType":"DiagnosticReport","id":"x1","subject":{"reference":"Patient/p1"},` +
			`"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},` +
			`"status":"final","code":{"text":"toxicology"},"effectiveDateTime":"2021-01-10T00:00:00Z",` +
			`"contained":[` + contained + `],"result":[{"reference":"#o1"}]}`
	}
	obs := func(date string) string {
		return `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"urine drug screen"},` + date + `,"valueString":"positive"}`
	}
	cases := []struct {
		name, body string
		want       int
	}{
		{"contained screen of the refused months", report(obs(`"effectiveDateTime":"2020-08-10T00:00:00Z"`)), http.StatusNotFound},
		{"contained screen with a date that does not parse", report(obs(`"effectiveDateTime":"last August"`)), http.StatusNotFound},
		{"contained screen dated as text", report(obs(`"effectiveString":"x","effectiveTiming":{}`)), http.StatusNotFound},
		{"contained screen after them", report(obs(`"effectiveDateTime":"2021-01-05T00:00:00Z"`)), http.StatusOK},
		{"contained screen of no date", report(obs(`"issued":"2021-01-05T00:00:00Z"`)), http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, c.body), func(_ *Options, d *Deps) {
				d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {dataPeriodConsent()}}}
			})
			resp, body := h.get("/fhir/DiagnosticReport/x1", tokConsented)
			if resp.StatusCode != c.want {
				t.Errorf("org-a read %s: %d, want %d: %.200s", c.body, resp.StatusCode, c.want, body)
			}
		})
	}
}

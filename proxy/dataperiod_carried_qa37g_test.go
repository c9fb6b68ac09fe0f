package proxy

import (
	"net/http"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestDataPeriodReadsCarriedDatesQA37G (QA round 37, area G, on 424a60c):
// a contained resource's dates widen the record's clinical date, but those
// of the resources a contained Bundle or Parameters carries (its entries,
// its parameters; e2a9e49 and 11596f0 label them as contained resources)
// were not read: p1's DiagnosticReport of January 2021 holding, in a
// contained collection, the urine drug screen of August 2020 went whole to
// org-a (200), whom p1's consent refuses the second half of 2020, where
// the screen contained directly withholds it.
func TestDataPeriodReadsCarriedDatesQA37G(t *testing.T) {
	t.Parallel()
	report := func(contained string) string {
		return `{"resourceType":"DiagnosticReport","id":"x1","subject":{"reference":"Patient/p1"},` +
			`"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},` +
			`"status":"final","code":{"text":"toxicology"},"effectiveDateTime":"2021-01-10T00:00:00Z",` +
			`"contained":[` + contained + `]}`
	}
	obs := func(date string) string {
		return `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"urine drug screen"},"effectiveDateTime":"` + date + `","valueString":"positive"}`
	}
	bundle := func(res string) string {
		return `{"resourceType":"Bundle","id":"b1","type":"collection","entry":[{"resource":` + res + `}]}`
	}
	params := func(res string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"x","part":[{"name":"y","resource":` + res + `}]}]}`
	}
	cases := []struct {
		name, body string
		want       int
	}{
		{"collection's screen of the refused months", report(bundle(obs("2020-08-10T00:00:00Z"))), http.StatusNotFound},
		{"parameter's screen of the refused months", report(params(obs("2020-08-10T00:00:00Z"))), http.StatusNotFound},
		{"nested collection's screen of the refused months", report(bundle(bundle(obs("2020-08-10T00:00:00Z")))), http.StatusNotFound},
		{"collection's screen with a date that does not parse", report(bundle(obs("last August"))), http.StatusNotFound},
		{"collection's screen after them", report(bundle(obs("2021-01-05T00:00:00Z"))), http.StatusOK},
		{"screen contained in a collection's entry", report(bundle(`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"panel"},"effectiveDateTime":"2021-01-05T00:00:00Z","contained":[` + obs("2020-08-10T00:00:00Z") + `]}`)), http.StatusNotFound},
		{"parameter's screen after them", report(params(obs("2021-01-05T00:00:00Z"))), http.StatusOK},
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

package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// dataPeriodConsent is p1's Part 2 consent: org-a may have the records for
// treatment, except those of the second half of 2020 (a nested deny by
// provision.dataPeriod, dates with their zone, so exact).
func dataPeriodConsent() consent.Record {
	raw := `{"resourceType":"Consent","id":"dp1","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"deny","provision":[{"type":"permit",
	"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	"provision":[{"type":"deny","dataPeriod":{"start":"2020-07-01T00:00:00Z","end":"2020-12-31T23:59:59Z"}}]}]}}`
	return consent.Record{ID: "dp1", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(), JSON: []byte(raw)}
}

// TestDataPeriodReadsTheItemsWholeDateQA36B: a clinical date is a span, not
// an instant. A record dated "2020" (or "2020-08", or a period from May
// to September) may lie in the second half of 2020, which the patient's
// consent refuses org-a; read as the first instant of that span (2020-01-01,
// 2020-05-20) it fell before the refused data period and org-a read it
// (200). A deny applies to a record whose date may lie in its data period;
// a record whose date lies wholly outside it is still disclosed.
func TestDataPeriodReadsTheItemsWholeDateQA36B(t *testing.T) {
	t.Parallel()
	cond := func(date string) string {
		return strings.Replace(sudCondition, `"code":{`, date+`,"code":{`, 1)
	}
	cases := []struct {
		name, date string
		want       int
	}{
		{"year only", `"onsetDateTime":"2020"`, 404},
		{"onset period reaching into the refused months", `"onsetPeriod":{"start":"2020-05-20","end":"2020-09-01"}`, 404},
		{"June, already July in UTC-12's evening", `"onsetDateTime":"2020-06"`, 404},
		{"a dateTime just before them", `"onsetDateTime":"2020-06-30T23:59:59Z"`, 200},
		{"a day wholly before them", `"onsetDateTime":"2020-06-15"`, 200},
		{"a period wholly before them", `"onsetPeriod":{"start":"2020-03-01","end":"2020-04-01"}`, 200},
		{"a year wholly after them", `"onsetDateTime":"2022"`, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, cond(c.date)), func(_ *Options, d *Deps) {
				d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {dataPeriodConsent()}}}
			})
			resp, body := h.get("/fhir/Condition/sud1", tokConsented)
			if resp.StatusCode != c.want {
				t.Errorf("org-a read a Condition with %s: %d, want %d: %s", c.date, resp.StatusCode, c.want, body)
			}
		})
	}
}

package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestDataPeriodReadsZonelessDateTimeQA36F: a dateTime without its zone
// ("2020-03-01T10:00:00") is invalid FHIR that a lax server stores as sent.
// Before QA round 36 it was read (as UTC); consent.DateSpan refused it, so
// such a record had no clinical date, and a data period read it
// protectively: a condition from March 2020, long before the months p1's
// consent refuses org-a, was withheld from org-a (404), and so was every
// record with one such date among its others. It is now a time in any zone
// in use, as a date without a zone is: March is disclosed, the evening of
// 30 June (July somewhere) still withheld.
func TestDataPeriodReadsZonelessDateTimeQA36F(t *testing.T) {
	t.Parallel()
	cond := func(dates string) string {
		return strings.Replace(sudCondition, `"code":{`, dates+`,"code":{`, 1)
	}
	cases := []struct {
		name, dates string
		want        int
	}{
		{"March, no zone", `"onsetDateTime":"2020-03-01T10:00:00"`, http.StatusOK},
		{"recorded in March, no zone", `"onsetDateTime":"2019-03-01T00:00:00Z","recordedDate":"2020-03-01T10:00:00.250"`, http.StatusOK},
		{"30 June's evening, no zone", `"onsetDateTime":"2020-06-30T20:00:00"`, http.StatusNotFound},
		{"August, no zone", `"onsetDateTime":"2020-08-01T10:00:00"`, http.StatusNotFound},
		{"no seconds", `"onsetDateTime":"2020-03-01T10:00"`, http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, cond(c.dates)), func(_ *Options, d *Deps) {
				d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {dataPeriodConsent()}}}
			})
			resp, body := h.get("/fhir/Condition/sud1", tokConsented)
			if resp.StatusCode != c.want {
				t.Errorf("org-a read a Condition with %s: %d, want %d: %s", c.dates, resp.StatusCode, c.want, body)
			}
		})
	}
}

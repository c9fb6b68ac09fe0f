package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestDataPeriodReadsEveryDateOfTheRecordQA36B: a record has several
// clinical dates, and only the first present was read: a Condition whose
// onset was in 2019 but which was recorded in August 2020, or which abated
// then, is data of the second half of 2020, which the patient refused
// org-a; read by its onset alone it fell before the refused months, and
// org-a read it (200). A deny's data period applies when any of the
// record's dates may lie in it, a permit's when all of them lie inside.
func TestDataPeriodReadsEveryDateOfTheRecordQA36B(t *testing.T) {
	t.Parallel()
	cond := func(dates string) string {
		return strings.Replace(sudCondition, `"code":{`, dates+`,"code":{`, 1)
	}
	cases := []struct {
		name, dates string
		want        int
	}{
		{"recorded in the refused months", `"onsetDateTime":"2019-03-01T00:00:00Z","recordedDate":"2020-08-15T10:00:00Z"`, http.StatusNotFound},
		{"abated in the refused months", `"onsetDateTime":"2019-03-01T00:00:00Z","abatementDateTime":"2020-09-01T10:00:00Z"`, http.StatusNotFound},
		{"a later date that does not parse", `"onsetDateTime":"2019-03-01T00:00:00Z","recordedDate":"last summer"`, http.StatusNotFound},
		{"every date before them", `"onsetDateTime":"2019-03-01T00:00:00Z","recordedDate":"2019-03-02T00:00:00Z"`, http.StatusOK},
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

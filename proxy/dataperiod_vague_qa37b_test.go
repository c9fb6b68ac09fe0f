package proxy

import (
	"net/http"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestDataPeriodVagueDateIsNoDateQA37B: a clinical time FHIR lets a record
// state as an age, a range, a text or a Timing (onsetString "August 2020",
// onsetAge, effectiveTiming ...) was skipped, and the record was dated by
// its other dates alone: an opioid use disorder of p1 with onset "August
// 2020", recorded in 2021, went to org-a (200), whom p1's consent refuses
// the data of the second half of 2020. Such a time is a date the proxy
// cannot read: the record has no clinical date, which a deny reads
// protectively (404).
func TestDataPeriodVagueDateIsNoDateQA37B(t *testing.T) {
	t.Parallel()
	const sud = `"subject":{"reference":"Patient/p1"},"patient":{"reference":"Patient/p1"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}`
	cases := []struct {
		name, typ, body string
		want            int
	}{
		{"condition with an onset as text", "Condition",
			`{"resourceType":"Condition","id":"x1",` + sud + `,"onsetString":"August 2020","recordedDate":"2021-02-01T10:00:00Z"}`, http.StatusNotFound},
		{"condition with an onset as an age", "Condition",
			`{"resourceType":"Condition","id":"x1",` + sud + `,"onsetAge":{"value":35,"unit":"a","system":"http://unitsofmeasure.org","code":"a"},"recordedDate":"2021-02-01T10:00:00Z"}`, http.StatusNotFound},
		{"observation effective by a Timing", "Observation",
			`{"resourceType":"Observation","id":"x1",` + sud + `,"effectiveTiming":{"event":["2020-08-10T09:00:00Z"]},"issued":"2021-02-01T10:00:00Z"}`, http.StatusNotFound},
		{"immunization occurring as text", "Immunization",
			`{"resourceType":"Immunization","id":"x1",` + sud + `,"occurrenceString":"August 2020","recorded":"2021-02-01T10:00:00Z"}`, http.StatusNotFound},
		{"condition with a readable onset", "Condition",
			`{"resourceType":"Condition","id":"x1",` + sud + `,"onsetDateTime":"2021-01-20T10:00:00Z","recordedDate":"2021-02-01T10:00:00Z"}`, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, c.body), func(_ *Options, d *Deps) {
				d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {dataPeriodConsent()}}}
			})
			resp, body := h.get("/fhir/"+c.typ+"/x1", tokConsented)
			if resp.StatusCode != c.want {
				t.Errorf("org-a read %s: %d, want %d: %s", c.body, resp.StatusCode, c.want, body)
			}
		})
	}
}

// TestItemFactsVagueDateQA37B: a time stated as an age, a range, a text, a
// Timing or a code leaves the record no clinical date, whatever its other
// dates; without one, the other dates still date it.
func TestItemFactsVagueDateQA37B(t *testing.T) {
	t.Parallel()
	for _, m := range []string{
		`"onsetAge":{"value":35}`, `"onsetRange":{"low":{"value":30}}`, `"onsetString":"August 2020"`,
		`"abatementString":"later"`, `"performedString":"last summer"`, `"effectiveTiming":{"event":["2020-08-10"]}`,
		`"occurrenceString":"August 2020"`, `"timingTiming":{}`, `"startCodeableConcept":{"text":"at discharge"}`,
	} {
		body := `{"resourceType":"Condition","recordedDate":"2021-02-01T10:00:00Z",` + m + `}`
		if f := itemFacts(factNeeds{date: true}, "Condition", "x1", []byte(body)); f.TimeNS != nil || f.TimeEndNS != nil {
			t.Errorf("%s: a clinical date %d to %d, want none", m, *f.TimeNS, *f.TimeEndNS)
		}
	}
	body := `{"resourceType":"Condition","recordedDate":"2021-02-01T10:00:00Z","abatementBoolean":true}`
	if f := itemFacts(factNeeds{date: true}, "Condition", "x1", []byte(body)); f.TimeNS == nil {
		t.Errorf("a record with a readable date and no vague one has no clinical date")
	}
}

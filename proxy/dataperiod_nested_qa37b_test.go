package proxy

import (
	"net/http"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestDataPeriodReadsNestedAndOtherDatesQA37B: p1's consent refuses org-a
// the records of the second half of 2020. A record's clinical date was read
// only from a fixed list of top-level members, so a record whose date of
// service lies in an element (a claim's item.servicedDate, a document's
// context.period, a composition's event.period) or in a member the list
// left out (an appointment's start, a medication statement's dateAsserted)
// was read by another of its dates outside the refused months: an
// ExplanationOfBenefit for an opioid use disorder served in August 2020 and
// processed in 2021 went to org-a (200). Every such date now counts.
func TestDataPeriodReadsNestedAndOtherDatesQA37B(t *testing.T) {
	t.Parallel()
	const sud = `"subject":{"reference":"Patient/p1"},"patient":{"reference":"Patient/p1"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}`
	cases := []struct {
		name, typ, body string
		want            int
	}{
		{"claim item served in the refused months", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","id":"x1",` + sud + `,"created":"2021-01-15T10:00:00Z","item":[{"sequence":1,"servicedDate":"2020-08-10"}]}`, http.StatusNotFound},
		{"claim item served over a period reaching into them", "Claim",
			`{"resourceType":"Claim","id":"x1",` + sud + `,"created":"2021-01-15T10:00:00Z","item":[{"sequence":1,"servicedDate":"2020-01-10"},{"sequence":2,"servicedPeriod":{"start":"2020-06-20","end":"2020-07-20"}}]}`, http.StatusNotFound},
		{"claim supporting info in them", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","id":"x1",` + sud + `,"billablePeriod":{"start":"2021-02-01","end":"2021-02-02"},"supportingInfo":[{"sequence":1,"timingPeriod":{"start":"2020-09-01","end":"2020-09-05"}}]}`, http.StatusNotFound},
		{"claim item with a date that does not parse", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","id":"x1",` + sud + `,"created":"2021-01-15T10:00:00Z","item":[{"sequence":1,"servicedDate":"last August"}]}`, http.StatusNotFound},
		{"claim items that are no elements", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","id":"x1",` + sud + `,"created":"2021-01-15T10:00:00Z","item":"2020-08-10"}`, http.StatusNotFound},
		{"document of a stay in them, indexed later", "DocumentReference",
			`{"resourceType":"DocumentReference","id":"x1",` + sud + `,"date":"2021-02-01T10:00:00Z","context":{"period":{"start":"2020-09-01","end":"2020-09-10"}}}`, http.StatusNotFound},
		{"composition whose event lies in them", "Composition",
			`{"resourceType":"Composition","id":"x1",` + sud + `,"date":"2021-02-01T10:00:00Z","event":[{"period":{"start":"2020-09-01","end":"2020-09-10"}}]}`, http.StatusNotFound},
		{"appointment booked before them, held in them", "Appointment",
			`{"resourceType":"Appointment","id":"x1",` + sud + `,"created":"2020-06-01T10:00:00Z","start":"2020-08-10T09:00:00Z","end":"2020-08-10T10:00:00Z"}`, http.StatusNotFound},
		{"medication statement asserted in them", "MedicationStatement",
			`{"resourceType":"MedicationStatement","id":"x1",` + sud + `,"effectivePeriod":{"start":"2019-01-01","end":"2019-02-01"},"dateAsserted":"2020-08-10T09:00:00Z"}`, http.StatusNotFound},
		{"prescription valid into them", "MedicationRequest",
			`{"resourceType":"MedicationRequest","id":"x1",` + sud + `,"authoredOn":"2020-06-20T09:00:00Z","dispenseRequest":{"validityPeriod":{"start":"2020-06-20","end":"2020-12-20"}}}`, http.StatusNotFound},
		{"claim wholly before them", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","id":"x1",` + sud + `,"created":"2020-03-15T10:00:00Z","item":[{"sequence":1,"servicedDate":"2020-03-10"}],"supportingInfo":[{"sequence":1}]}`, http.StatusOK},
		{"document wholly before them", "DocumentReference",
			`{"resourceType":"DocumentReference","id":"x1",` + sud + `,"date":"2020-03-01T10:00:00Z","context":{"period":{"start":"2020-02-01","end":"2020-02-10"}}}`, http.StatusOK},
		{"appointment wholly after them", "Appointment",
			`{"resourceType":"Appointment","id":"x1",` + sud + `,"created":"2021-03-01T10:00:00Z","start":"2021-03-10T09:00:00Z"}`, http.StatusOK},
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

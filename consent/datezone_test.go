package consent

import (
	"testing"
	"time"
)

// TestDateZoneReadsDatesExactly: with the site's zone set, a consent's
// dates without a time are that zone's days, exactly, with no widening or
// narrowing; the scope text names the days as written. Not parallel: it
// sets the package's zone, and restores it before the parallel tests run.
func TestDateZoneReadsDatesExactly(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	SetDateZone(ny)
	defer SetDateZone(nil)
	raw := `{"resourceType":"Consent","id":"z","status":"active",
	 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	 "patient":{"reference":"Patient/p1"},
	 "provision":{"type":"permit","period":{"start":"2026-01-01","end":"2026-12-31"},
	  "provision":[{"type":"deny","dataPeriod":{"end":"2020-06-30"},
	   "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}]}}`
	n, err := Normalize(Record{ID: "z", Version: 1, Patient: "Patient/p1", Status: "active", JSON: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, ny).UnixNano() }
	start, end := at(2026, 1, 1), at(2027, 1, 1)
	if n.Start != start || n.End != end {
		t.Errorf("consent in force [%d, %d), want New York's [%d, %d)", n.Start, n.End, start, end)
	}
	for _, r := range n.Rules {
		if c := r.Conditions[0]; c.Start != start || c.End != end {
			t.Errorf("%s (%s): period [%d, %d), want [%d, %d)", r.Path, r.Type, c.Start, c.End, start, end)
		}
	}
	if deny := n.Rules[1].Conditions[1]; deny.DataEnd != at(2020, 7, 1) {
		t.Errorf("dataPeriod end %d, want %d", deny.DataEnd, at(2020, 7, 1))
	}
	const want = "Consent/z version 1, in force from 2026-01-01 until 2026-12-31; it permits disclosure of all the patient's records to anyone, with exceptions the patient set."
	if got := n.ScopeFor(nil, nil); got != want {
		t.Errorf("scope:\n got %q\nwant %q", got, want)
	}
}

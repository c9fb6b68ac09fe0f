package oracle

import (
	"testing"

	"github.com/ds4p/ds4p/test/medplum"
)

// TestOracleCatchesUnfilteredUpstream points the scenario runner straight
// at Medplum, with nothing in between, and checks that the oracle reports
// what the proxy exists to withhold: every read of a sensitive resource by
// a caller with no purpose of use (its bytes, and that it answers unlike a
// missing one), and searches and $everything of the
// patients who have some. An oracle that passed this would pass anything.
func TestOracleCatchesUnfilteredUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node and Medplum; skipped in -short mode")
	}
	w := newWorld(1)
	w.consents = nil
	w.callers = []Caller{{Sub: "nobody", Org: "Organization/org-z", Scope: "user/*.read"}}
	var reports []string
	r := &run{t: t, w: w, o: New(w.ds, w.mixed...), tally: newTally(), tokens: []string{""}, px: &proxy{logs: &tailLog{}},
		leak: func(format string, args ...any) { reports = append(reports, format) }}
	r.up = medplum.Start(t)
	r.up.Put(t, w.ds.Raw()...)
	for _, m := range w.mixed {
		r.up.Put(t, m.JSON)
	}
	r.fhirBase = r.up.BaseURL
	var want int
	for _, res := range w.ds.Resources {
		if !res.Sensitive() {
			continue
		}
		want++
		r.check(scenario{n: want, q: query{Kind: "read", Method: "GET", Path: "/fhir/" + res.Ref(), Patients: []string{res.Patient}}})
		// Two findings each: its bytes, and a 200 where a missing one is 404.
		if r.tally.leaks != 2*want {
			t.Fatalf("reading %s straight from the upstream: %d findings after %d sensitive reads, want %d", res.Ref(), r.tally.leaks, want, 2*want)
		}
	}
	// A mixed claim straight from the upstream keeps its SUD diagnosis.
	if len(w.mixed) == 0 {
		t.Fatal("seed 1 has no mixed resource")
	}
	for _, m := range w.mixed {
		before := r.tally.leaks
		r.check(scenario{q: query{Kind: "element", Method: "GET", Path: "/fhir/" + m.Ref(), Patients: []string{m.Patient}}})
		if r.tally.leaks == before {
			t.Errorf("reading %s straight from the upstream: the oracle missed its SUD element", m.Ref())
		}
	}
	for _, q := range []struct{ path, patient string }{
		{"Patient/pat-0/$everything", "Patient/pat-0"},
		{"Condition?patient=Patient/pat-2", "Patient/pat-2"},
		{"Observation?patient=Patient/pat-0&_count=2", "Patient/pat-0"},
		{"Encounter?patient=Patient/pat-0&_include=Encounter:service-provider", "Patient/pat-0"},
	} {
		before := r.tally.leaks
		r.check(scenario{q: query{Kind: "search", Method: "GET", Path: "/fhir/" + q.path, Patients: []string{q.patient}}})
		if r.tally.leaks == before {
			t.Errorf("GET %s straight from the upstream: the oracle found nothing", q.path)
		}
	}
	if len(reports) != r.tally.leaks {
		t.Fatalf("%d reports for %d leaks", len(reports), r.tally.leaks)
	}
	t.Logf("unfiltered upstream: %s", r.tally)
}

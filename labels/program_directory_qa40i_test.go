package labels_test

import (
	"sync/atomic"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// programDirectory is a Part 2 program's directory as its EHR keeps it:
// the program is Organization/p2 (the only reference configured); its
// clinician's role, its site, a service it provides and a department of
// it name it. Organization/h1 and its role, site and department are an
// ordinary hospital's.
var programDirectory = map[string]string{
	"PractitionerRole/r1":  `{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/d1"},"organization":{"reference":"Organization/p2"}}`,
	"Location/l1":          `{"resourceType":"Location","id":"l1","managingOrganization":{"reference":"Organization/p2"}}`,
	"Organization/u1":      `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
	"HealthcareService/s1": `{"resourceType":"HealthcareService","id":"s1","providedBy":{"reference":"Organization/p2"}}`,
	"Organization/p2":      `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`,
	"PractitionerRole/r9":  `{"resourceType":"PractitionerRole","id":"r9","practitioner":{"reference":"Practitioner/d1"},"organization":{"reference":"Organization/h1"}}`,
	"Location/l9":          `{"resourceType":"Location","id":"l9","managingOrganization":{"reference":"Organization/h1"}}`,
	"Organization/u9":      `{"resourceType":"Organization","id":"u9","partOf":{"reference":"Organization/h1"}}`,
	"Organization/h1":      `{"resourceType":"Organization","id":"h1","name":"General Hospital"}`,
}

func programDirectoryLabeller(t *testing.T) *labels.Labeller {
	t.Helper()
	l, err := labels.NewLabeller(labels.Options{CacheSize: 100, Programs: []labels.Program{
		{Name: "Riverside Recovery", References: []string{"Organization/p2"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// directoryFetch reads programDirectory, counting the reads.
func directoryFetch(reads *atomic.Int32) labels.FetchFunc {
	return func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, t := range ts {
			reads.Add(1)
			if b, ok := programDirectory[t.Key()]; ok {
				out = append(out, []byte(b))
			}
		}
		return out, nil
	}
}

// TestProgramDirectoryEntriesQA40I (QA round 40, area I; E's proposal
// P-1): a record whose performer is a PractitionerRole of the Part 2
// program (US Core's usual Observation.performer), whose location is a
// Location the program manages, whose serviceProvider is a department
// partOf the program or whose performer is a service it provides is the
// program's record, the directory entry read from the server, from the same
// response or, for a later response, from the label cache. The same record
// at an ordinary hospital's role, site or department stays ordinary, and
// the directory entries themselves are no record of anyone.
func TestProgramDirectoryEntriesQA40I(t *testing.T) {
	t.Parallel()
	records := map[string]struct{ program, ordinary, target string }{
		"performer PractitionerRole": {
			`{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r1"}]}`,
			`{"resourceType":"Observation","id":"o9","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r9"}]}`,
			"PractitionerRole/r1"},
		"location managed": {
			`{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p1"},"location":[{"location":{"reference":"Location/l1"}}]}`,
			`{"resourceType":"Encounter","id":"e9","subject":{"reference":"Patient/p1"},"location":[{"location":{"reference":"Location/l9"}}]}`,
			"Location/l1"},
		"serviceProvider partOf": {
			`{"resourceType":"Encounter","id":"e2","subject":{"reference":"Patient/p1"},"serviceProvider":{"reference":"Organization/u1"}}`,
			`{"resourceType":"Encounter","id":"e8","subject":{"reference":"Patient/p1"},"serviceProvider":{"reference":"Organization/u9"}}`,
			"Organization/u1"},
		"performer HealthcareService": {
			`{"resourceType":"Procedure","id":"x1","subject":{"reference":"Patient/p1"},"performer":[{"actor":{"reference":"HealthcareService/s1"}}]}`,
			`{"resourceType":"Procedure","id":"x9","subject":{"reference":"Patient/p1"},"performer":[{"actor":{"reference":"Practitioner/d1"}}]}`,
			"HealthcareService/s1"},
	}
	for name, c := range records {
		// Fetched from the server, then known from the cache.
		l := programDirectoryLabeller(t)
		var reads atomic.Int32
		for _, round := range []string{"fetched", "cached"} {
			rs, err := l.LabelAllResolving([][]byte{[]byte(c.program)}, false, directoryFetch(&reads))
			if err != nil || rs[0].Program != "Riverside Recovery" || !rs[0].Labels.Has(labels.Part2Policy) || !rs[0].Labels.Has(labels.Restricted) {
				t.Errorf("%s, %s: program %q, labels %v, %v; want the program's record", name, round, rs[0].Program, rs[0].Labels, err)
			}
		}
		if n := reads.Load(); n > 2 {
			t.Errorf("%s: %d reads; want the directory entry (and what it names) read once, then cached", name, n)
		}
		rs, err := l.LabelAllResolving([][]byte{[]byte(c.ordinary)}, false, directoryFetch(&reads))
		if err != nil || rs[0].Program != "" || rs[0].Labels.Has(labels.Part2Policy) {
			t.Errorf("%s, ordinary: program %q, labels %v, %v; want no program", name, rs[0].Program, rs[0].Labels, err)
		}
		// In the same response (_include), no fetch at all.
		l = programDirectoryLabeller(t)
		rs, err = l.LabelAllResolving([][]byte{[]byte(c.program), []byte(programDirectory[c.target])}, false, nil)
		if err != nil || rs[0].Program != "Riverside Recovery" || !rs[0].Labels.Has(labels.Part2Policy) {
			t.Errorf("%s, included: program %q, labels %v, %v; want the program's record", name, rs[0].Program, rs[0].Labels, err)
		}
		if err == nil && (rs[1].Program != "" || len(rs[1].Labels) != 0) {
			t.Errorf("%s, included: the directory entry got program %q, labels %v; want none", name, rs[1].Program, rs[1].Labels)
		}
	}
}

// TestProgramDirectoryFetchFailsQA40I: a directory target that cannot be
// read fails the batch (closed), as any reference target does.
func TestProgramDirectoryFetchFailsQA40I(t *testing.T) {
	t.Parallel()
	l := programDirectoryLabeller(t)
	fail := func([]labels.Target) ([][]byte, error) { return nil, errFetchQA40I }
	_, err := l.LabelAllResolving([][]byte{[]byte(`{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r1"}]}`)}, false, fail)
	if err == nil {
		t.Error("a performer that cannot be read: labelled; want an error")
	}
}

type fetchErrQA40I struct{}

func (fetchErrQA40I) Error() string { return "upstream unavailable" }

var errFetchQA40I error = fetchErrQA40I{}

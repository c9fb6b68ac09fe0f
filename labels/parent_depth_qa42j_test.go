package labels_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// chainFetch reads entries, counting each key's reads.
type chainFetch struct {
	mu      sync.Mutex
	entries map[string]string
	reads   map[string]int
}

func newChainFetch(entries map[string]string) *chainFetch {
	return &chainFetch{entries: entries, reads: map[string]int{}}
}

func (c *chainFetch) fetch(ts []labels.Target) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]byte
	for _, t := range ts {
		c.reads[t.Key()]++
		if b, ok := c.entries[t.Key()]; ok {
			out = append(out, []byte(b))
		}
	}
	return out, nil
}

// total returns the reads since the last call, and the keys read more
// than once in all.
func (c *chainFetch) total() (n int, twice []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.reads {
		n += v
		if v > 1 {
			twice = append(twice, k)
		}
	}
	return n, twice
}

// orgTree is a chain of departments d0 <- d1 <- ... <- d<depth> by partOf
// (d0 partOf top, when top is not ""), a role r at the deepest, and the
// program's Organization p2.
func orgTree(prefix string, depth int, top string) map[string]string {
	m := map[string]string{
		"Organization/p2":             `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`,
		"PractitionerRole/r" + prefix: `{"resourceType":"PractitionerRole","id":"r` + prefix + `","organization":{"reference":"Organization/` + prefix + strconv.Itoa(depth) + `"}}`,
	}
	for i := 0; i <= depth; i++ {
		id := prefix + strconv.Itoa(i)
		parent := ""
		switch {
		case i > 0:
			parent = `,"partOf":{"reference":"Organization/` + prefix + strconv.Itoa(i-1) + `"}`
		case top != "":
			parent = `,"partOf":{"reference":"` + top + `"}`
		}
		m["Organization/"+id] = `{"resourceType":"Organization","id":"` + id + `"` + parent + `}`
	}
	return m
}

func performedBy(ref string) []byte {
	return []byte(`{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"blood pressure"},"performer":[{"reference":"` + ref + `"}]}`)
}

// TestParentChainsDeeperThanLabelsTravelQA42J (QA round 42, helper J; G's
// G-4): since beb1940 a directory entry's parents are read to the root,
// through Resolve, which refused a chain over 8 resources deep. On a site
// with a Part 2 program, a record performed by a role at an ordinary
// hospital's unit 7 or more levels down was refused for every caller (an
// error, 502 through the proxy), reading the chain again on every request.
// Parent links pass only what an entry stands for, so their chains get
// their own bound (32): an ordinary 12-deep tree is ordinary, each entry
// read once and then known; a program at the top of a 12-deep chain makes
// the record the program's (no fail-open); a 40-deep chain is refused as
// before; a loop ends.
func TestParentChainsDeeperThanLabelsTravelQA42J(t *testing.T) {
	t.Parallel()
	t.Run("ordinary 12-deep tree", func(t *testing.T) {
		l := programDirectoryLabeller(t)
		f := newChainFetch(orgTree("h", 12, ""))
		for _, round := range []string{"first", "repeat"} {
			rs, err := l.LabelAllResolving([][]byte{performedBy("PractitionerRole/rh")}, false, f.fetch)
			if err != nil {
				t.Fatalf("%s: %v; want the record labelled", round, err)
			}
			if first(rs).Program != "" || len(first(rs).Labels) != 0 {
				t.Errorf("%s: program %q, labels %v; want ordinary", round, first(rs).Program, first(rs).Labels)
			}
			n, twice := f.total()
			if want := map[string]int{"first": 14, "repeat": 14}[round]; n != want || len(twice) > 0 {
				t.Errorf("%s: %d reads in all, read twice %v; want %d (the role and h12..h0 once each, none on the repeat)", round, n, twice, want)
			}
		}
		// A Patient whose practitioner is that role: nothing to cut.
		rs, err := l.LabelAllResolving([][]byte{[]byte(`{"resourceType":"Patient","id":"p1","generalPractitioner":[{"reference":"PractitionerRole/rh"}],"managingOrganization":{"reference":"Organization/h12"}}`)}, false, f.fetch)
		if err != nil || first(rs).DirectoryProgram("PractitionerRole/rh") != "" || first(rs).DirectoryProgram("Organization/h12") != "" {
			t.Errorf("Patient: %v; want no error, nothing the program's", err)
		}
	})
	t.Run("program at the top of a 12-deep chain", func(t *testing.T) {
		l := programDirectoryLabeller(t)
		f := newChainFetch(orgTree("u", 12, "Organization/p2"))
		for _, round := range []string{"first", "repeat"} {
			rs, err := l.LabelAllResolving([][]byte{performedBy("PractitionerRole/ru")}, false, f.fetch)
			if err != nil || first(rs).Program != "Riverside Recovery" || !first(rs).Labels.Has(labels.Part2Policy) || !first(rs).Labels.Has(labels.Restricted) {
				t.Errorf("%s: program %q, labels %v, %v; want the program's record", round, first(rs).Program, first(rs).Labels, err)
			}
		}
		if _, twice := f.total(); len(twice) > 0 {
			t.Errorf("read twice: %v; want each entry read once, then known", twice)
		}
		// From the cache: a role at the deepest unit, the unit known.
		rs, err := l.LabelAllResolving([][]byte{[]byte(`{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"},"performer":[{"reference":"Organization/u12"}]}`)}, false, f.fetch)
		if err != nil || first(rs).Program != "Riverside Recovery" {
			t.Errorf("performed by the cached unit: program %q, %v; want the program's record", first(rs).Program, err)
		}
		// A Patient naming the role: its enrolment.
		l = programDirectoryLabeller(t)
		rs, err = l.LabelAllResolving([][]byte{[]byte(`{"resourceType":"Patient","id":"p1","generalPractitioner":[{"reference":"PractitionerRole/ru"}]}`)}, false, newChainFetch(orgTree("u", 12, "Organization/p2")).fetch)
		if err != nil || first(rs).DirectoryProgram("PractitionerRole/ru") != "Riverside Recovery" {
			t.Errorf("Patient: the role stands for %q, %v; want the program", first(rs).DirectoryProgram("PractitionerRole/ru"), err)
		}
		// The same chain in the response itself (the record first, then
		// the role and the units down to the top): carried all the way.
		m := orgTree("u", 12, "Organization/p2")
		in := [][]byte{performedBy("PractitionerRole/ru"), []byte(m["PractitionerRole/ru"])}
		for i := 12; i >= 0; i-- {
			in = append(in, []byte(m["Organization/u"+strconv.Itoa(i)]))
		}
		l = programDirectoryLabeller(t)
		rs, err = l.LabelAllResolving(in, false, nil)
		if err != nil || first(rs).Program != "Riverside Recovery" {
			t.Errorf("chain in the response: program %q, %v; want the program's record", first(rs).Program, err)
		}
		for k := 1; err == nil && k < len(rs); k++ {
			if rs[k].Directory() != "Riverside Recovery" {
				t.Errorf("chain in the response: %s/%s stands for %q; want the program", rs[k].Type, rs[k].ID, rs[k].Directory())
			}
		}
	})
	t.Run("sites and services down a deep chain", func(t *testing.T) {
		m := orgTree("u", 10, "Organization/p2")
		m["Location/l0"] = `{"resourceType":"Location","id":"l0","managingOrganization":{"reference":"Organization/u10"}}`
		for i := 1; i <= 10; i++ {
			m["Location/l"+strconv.Itoa(i)] = `{"resourceType":"Location","id":"l` + strconv.Itoa(i) + `","partOf":{"reference":"Location/l` + strconv.Itoa(i-1) + `"}}`
		}
		m["HealthcareService/s1"] = `{"resourceType":"HealthcareService","id":"s1","location":[{"reference":"Location/l10"}]}`
		m["PractitionerRole/rs"] = `{"resourceType":"PractitionerRole","id":"rs","healthcareService":[{"reference":"HealthcareService/s1"}]}`
		l := programDirectoryLabeller(t)
		rs, err := l.LabelAllResolving([][]byte{performedBy("PractitionerRole/rs")}, false, newChainFetch(m).fetch)
		if err != nil || first(rs).Program != "Riverside Recovery" {
			t.Errorf("role of a service at a site 11 down, under a unit 11 down: program %q, %v; want the program's record", first(rs).Program, err)
		}
	})
	t.Run("40-deep chain", func(t *testing.T) {
		l := programDirectoryLabeller(t)
		_, err := l.LabelAllResolving([][]byte{performedBy("PractitionerRole/rh")}, false, newChainFetch(orgTree("h", 40, "Organization/p2")).fetch)
		if err == nil {
			t.Error("a role at a unit 40 levels down: labelled; want an error (withheld)")
		}
	})
	t.Run("loop", func(t *testing.T) {
		m := orgTree("c", 11, "")
		m["Organization/c0"] = `{"resourceType":"Organization","id":"c0","partOf":{"reference":"Organization/c11"}}`
		l := programDirectoryLabeller(t)
		f := newChainFetch(m)
		rs, err := l.LabelAllResolving([][]byte{performedBy("PractitionerRole/rc")}, false, f.fetch)
		if err != nil || first(rs).Program != "" || len(first(rs).Labels) != 0 {
			t.Errorf("a 12-entry loop: program %q, labels %v, %v; want ordinary", first(rs).Program, first(rs).Labels, err)
		}
		if n, twice := f.total(); n != 13 || len(twice) > 0 {
			t.Errorf("a 12-entry loop: %d reads, read twice %v; want 13, each once", n, twice)
		}
	})
	t.Run("labels travel as before", func(t *testing.T) {
		// An Observation about the deepest unit (focus, content) takes its
		// labels and those of the units above it: a chain deeper than
		// labels travel is refused as before.
		l := programDirectoryLabeller(t)
		rec := []byte(`{"resourceType":"Observation","id":"o3","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"x"},"focus":[{"reference":"Organization/h12"}]}`)
		if _, err := l.LabelAllResolving([][]byte{rec}, false, newChainFetch(orgTree("h", 12, "")).fetch); err == nil {
			t.Error("a content chain of 13 units: labelled; want an error as before")
		}
		// So is a chain of results, with a department read on the way.
		m := map[string]string{}
		for i := 0; i < 12; i++ {
			m["Observation/x"+strconv.Itoa(i)] = `{"resourceType":"Observation","id":"x` + strconv.Itoa(i) + `","status":"final","code":{"text":"x"},"hasMember":[{"reference":"Observation/x` + strconv.Itoa(i+1) + `"}],"performer":[{"reference":"Organization/h` + strconv.Itoa(i) + `"}]}`
		}
		for k, v := range orgTree("h", 3, "") {
			m[k] = v
		}
		rec = []byte(`{"resourceType":"Observation","id":"o4","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"x"},"hasMember":[{"reference":"Observation/x0"}]}`)
		if _, err := programDirectoryLabeller(t).LabelAllResolving([][]byte{rec}, false, newChainFetch(m).fetch); err == nil {
			t.Error("a chain of 12 results: labelled; want an error as before")
		}
	})
}

// first is the first result, or an empty one when labelling failed.
func first(rs []labels.Result) *labels.Result {
	if len(rs) == 0 {
		return &labels.Result{}
	}
	return &rs[0]
}

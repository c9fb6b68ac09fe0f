package labels_test

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// deepDirectory is a Part 2 program's directory two hops deep: the unit u2
// is partOf the department u1, partOf the program p2; a site managed by
// u1, a role at u2, a service u2 provides. c1 and c2 are partOf each
// other (a loop), naming no program.
var deepDirectory = map[string]string{
	"Organization/p2":      `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`,
	"Organization/u1":      `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
	"Organization/u2":      `{"resourceType":"Organization","id":"u2","partOf":{"reference":"Organization/u1"}}`,
	"Location/l2":          `{"resourceType":"Location","id":"l2","managingOrganization":{"reference":"Organization/u1"}}`,
	"PractitionerRole/r2":  `{"resourceType":"PractitionerRole","id":"r2","organization":{"reference":"Organization/u2"}}`,
	"HealthcareService/s2": `{"resourceType":"HealthcareService","id":"s2","providedBy":{"reference":"Organization/u2"}}`,
	"Organization/c1":      `{"resourceType":"Organization","id":"c1","partOf":{"reference":"Organization/c2"}}`,
	"Organization/c2":      `{"resourceType":"Organization","id":"c2","partOf":{"reference":"Organization/c1"}}`,
	"Organization/h2":      `{"resourceType":"Organization","id":"h2","partOf":{"reference":"Organization/h1"}}`,
	"Organization/h1":      `{"resourceType":"Organization","id":"h1","name":"General Hospital"}`,
	"PractitionerRole/r9":  `{"resourceType":"PractitionerRole","id":"r9","organization":{"reference":"Organization/h2"}}`,
}

func deepFetch(reads *atomic.Int32) labels.FetchFunc {
	return func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, t := range ts {
			reads.Add(1)
			if b, ok := deepDirectory[t.Key()]; ok {
				out = append(out, []byte(b))
			}
		}
		return out, nil
	}
}

// TestProgramDirectoryTwoHopsQA42F (QA round 42, area F): a record
// performed by a unit partOf a department of the Part 2 program, at a site
// the department manages, by a role at the unit or by a service the unit
// provides is the program's record: the chain was read from the server
// (u2, u1, p2) but only an entry naming the program itself stood for it,
// so org-b got such an Observation as ordinary data. Chains are followed
// as far as labels travel (a loop ends, and names nothing); the same
// record at an ordinary hospital's unit stays ordinary, and a Patient's
// reference to the unit is its enrolment.
func TestProgramDirectoryTwoHopsQA42F(t *testing.T) {
	t.Parallel()
	program := map[string]string{
		"performer unit":   `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"performer":[{"reference":"Organization/u2"}]}`,
		"location managed": `{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p1"},"location":[{"location":{"reference":"Location/l2"}}]}`,
		"role at unit":     `{"resourceType":"Observation","id":"o2","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r2"}]}`,
		"service of unit":  `{"resourceType":"Procedure","id":"x1","subject":{"reference":"Patient/p1"},"performer":[{"actor":{"reference":"HealthcareService/s2"}}]}`,
	}
	for name, rec := range program {
		l := programDirectoryLabeller(t)
		var reads atomic.Int32
		for _, round := range []string{"fetched", "cached"} {
			rs, err := l.LabelAllResolving([][]byte{[]byte(rec)}, false, deepFetch(&reads))
			if err != nil || rs[0].Program != "Riverside Recovery" || !rs[0].Labels.Has(labels.Part2Policy) || !rs[0].Labels.Has(labels.Restricted) {
				t.Errorf("%s, %s: program %q, labels %v, %v; want the program's record", name, round, rs[0].Program, rs[0].Labels, err)
			}
		}
		if n := reads.Load(); n > 4 {
			t.Errorf("%s: %d reads; want each entry of the chain read once, then cached", name, n)
		}
	}
	ordinary := map[string]string{
		"loop":          `{"resourceType":"Observation","id":"o3","subject":{"reference":"Patient/p1"},"performer":[{"reference":"Organization/c1"}]}`,
		"hospital role": `{"resourceType":"Observation","id":"o9","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/r9"}]}`,
	}
	for name, rec := range ordinary {
		l := programDirectoryLabeller(t)
		var reads atomic.Int32
		rs, err := l.LabelAllResolving([][]byte{[]byte(rec)}, false, deepFetch(&reads))
		if err != nil || rs[0].Program != "" || len(rs[0].Labels) != 0 {
			t.Errorf("%s: program %q, labels %v, %v; want ordinary", name, rs[0].Program, rs[0].Labels, err)
		}
	}
	// A Patient naming the unit: its enrolment, as naming u1 is.
	l := programDirectoryLabeller(t)
	var reads atomic.Int32
	pat := `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/u2"},"generalPractitioner":[{"reference":"PractitionerRole/r9"}]}`
	rs, err := l.LabelAllResolving([][]byte{[]byte(pat)}, false, deepFetch(&reads))
	if err != nil || rs[0].DirectoryProgram("Organization/u2") != "Riverside Recovery" || rs[0].DirectoryProgram("PractitionerRole/r9") != "" || len(rs[0].Labels) != 0 {
		t.Errorf("Patient: u2 stands for %q, r9 for %q, labels %v, %v; want u2 the program's, r9 nothing, no labels", rs[0].DirectoryProgram("Organization/u2"), rs[0].DirectoryProgram("PractitionerRole/r9"), rs[0].Labels, err)
	}
	// The entries in the response itself (_include): the unit stands for
	// the program and is no record of it.
	l = programDirectoryLabeller(t)
	in := [][]byte{[]byte(program["role at unit"]), []byte(deepDirectory["PractitionerRole/r2"]), []byte(deepDirectory["Organization/u2"]), []byte(deepDirectory["Organization/u1"])}
	rs, err = l.LabelAllResolving(in, false, nil)
	if err != nil || rs[0].Program != "Riverside Recovery" {
		t.Errorf("included: program %q, %v; want the program's record", rs[0].Program, err)
	}
	for k := 1; err == nil && k < len(rs); k++ {
		if rs[k].Directory() != "Riverside Recovery" || len(rs[k].Labels) != 0 || rs[k].Program != "" {
			t.Errorf("included %s: directory %q, labels %v, program %q; want the program's entry, no labels", rs[k].ID, rs[k].Directory(), rs[k].Labels, rs[k].Program)
		}
	}
	// A chain deeper than labels travel cannot be known: withheld (an
	// error), not read as ordinary.
	l = programDirectoryLabeller(t)
	deep := func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, t := range ts {
			n, _ := strconv.Atoi(t.ID[1:])
			out = append(out, []byte(`{"resourceType":"Organization","id":"`+t.ID+`","partOf":{"reference":"Organization/d`+strconv.Itoa(n+1)+`"}}`))
		}
		return out, nil
	}
	if _, err := l.LabelAllResolving([][]byte{[]byte(`{"resourceType":"Observation","id":"o7","subject":{"reference":"Patient/p1"},"performer":[{"reference":"PractitionerRole/d0"}]}`)}, false, func(ts []labels.Target) ([][]byte, error) {
		if ts[0].Type == "PractitionerRole" {
			return [][]byte{[]byte(`{"resourceType":"PractitionerRole","id":"d0","organization":{"reference":"Organization/d1"}}`)}, nil
		}
		return deep(ts)
	}); err == nil {
		t.Error("a role in a chain of departments deeper than labels travel: labelled; want an error")
	}
}

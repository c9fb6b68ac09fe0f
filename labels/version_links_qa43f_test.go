package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestRecordVersionAtProgramDepartmentQA43F (QA round 43, helper F, on
// ec630de): a reference naming a record's version (an Observation whose
// encounter is Encounter/e1/_history/2, e1 then at Organization/u1, u1
// partOf the program p2, and since moved to an ordinary hospital) is read
// at that version, but only a directory entry's version had its
// references followed: the Encounter as it was stood for nothing, so the
// Observation was ordinary, read and again (the cache). So for labels: an
// Observation derived from x as it was, x then derived from an opioid use
// disorder, took nothing.
func TestRecordVersionAtProgramDepartmentQA43F(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"Encounter/e1|2":  `{"resourceType":"Encounter","id":"e1","meta":{"versionId":"2"},"status":"finished","serviceProvider":{"reference":"Organization/u1"}}`,
		"Encounter/e1":    `{"resourceType":"Encounter","id":"e1","meta":{"versionId":"3"},"status":"finished","serviceProvider":{"reference":"Organization/h1"}}`,
		"Organization/h1": `{"resourceType":"Organization","id":"h1"}`,
		"Observation/x|1": `{"resourceType":"Observation","id":"x","meta":{"versionId":"1"},"status":"final","code":{"text":"screen"},"derivedFrom":[{"reference":"Condition/c1"}]}`,
		"Observation/x":   `{"resourceType":"Observation","id":"x","meta":{"versionId":"2"},"status":"final","code":{"text":"screen"}}`,
		"Condition/c1":    `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`,
		"Organization/u1": `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"Organization/p2": `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`,
	}
	fetch := func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, t := range ts {
			key := t.Key()
			if t.Version != "" {
				key += "|" + t.Version
			}
			if b, ok := entries[key]; ok {
				out = append(out, []byte(b))
			}
		}
		return out, nil
	}
	l := programDirectoryLabeller(t)
	for _, ref := range []string{"Encounter/e1/_history/2", "Encounter/e1/_history/2"} { // read, then again with the cache
		obs := []byte(`{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"blood pressure"},"encounter":{"reference":"` + ref + `"}}`)
		rs, err := l.LabelAllResolving([][]byte{obs}, false, fetch)
		if err != nil || !first(rs).Labels.Has(labels.Part2Policy) {
			t.Errorf("encounter %s: program %q, labels %v, %v; want the program's record", ref, first(rs).Program, first(rs).Labels, err)
		}
	}
	// A record's version taking labels from its own content references:
	// an Observation derived from x as it was, when x was derived from an
	// opioid use disorder.
	lr, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, round := range []string{"read", "again"} {
		obs := []byte(`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"note"},"derivedFrom":[{"reference":"Observation/x/_history/1"}]}`)
		rs, err := lr.LabelAllResolving([][]byte{obs}, false, fetch)
		if err != nil || !first(rs).Labels.Has(labels.SUD) {
			t.Errorf("%s, derivedFrom x as it was: labels %v, %v; want SUD", round, first(rs).Labels, err)
		}
	}
}

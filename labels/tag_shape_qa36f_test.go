package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestTagEntryNotACodingQA36F: a security label in meta.tag is a label of
// the resource (QA round 34), but one written in another shape than a
// Coding - a CodeableConcept's coding, a nested array, a code that is no
// string - read as no label, and the Observation its EHR tagged R or SUD,
// with no code a rule matches, was ordinary. QA round 36, area A made such
// an entry in meta.security withhold; meta.tag is read the same way now.
// Ordinary tags, and a Coding without a code, still read as before.
func TestTagEntryNotACodingQA36F(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	obs := func(tag string) string {
		return `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"},"meta":{"tag":` + tag + `}}`
	}
	const r = `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`
	const sud = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`
	for _, tag := range []string{
		`[{"coding":[` + r + `]}]`,
		`[{"coding":[` + sud + `],"text":"SUD"}]`,
		`{"coding":[` + sud + `]}`,
		`[[` + sud + `]]`,
		`[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":["R"]}]`,
	} {
		res, err := l.Label([]byte(obs(tag)))
		if err == nil || !strings.Contains(err.Error(), "meta.tag") {
			t.Errorf("tag %s: labels %v, err %v; want an error naming meta.tag", tag, res.Labels, err)
		}
	}
	for _, c := range []struct {
		tag string
		n   int
	}{
		{`[{"system":"http://example.org/workflow","code":"reviewed"}]`, 0},
		{`[{"display":"imported"},{}]`, 0},
		{`["legacy"]`, 0},
		{`[` + r + `]`, 1},
		{r, 1},
	} {
		res, err := l.Label([]byte(obs(c.tag)))
		if err != nil || len(res.Labels) != c.n {
			t.Errorf("tag %s: labels %v, err %v; want %d labels", c.tag, res.Labels, err, c.n)
		}
	}
}

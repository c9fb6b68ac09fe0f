package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestSecurityEntryNotACodingQA36A: a meta.security entry written as a
// CodeableConcept ({"coding":[...]}, the shape of a DocumentReference's
// securityLabel) or as an extension's valueCoding is invalid FHIR JSON that
// a lax server stores as sent. Its label was read as none: an Observation
// its EHR labelled SUD, or R, with no code a rule matches, was ordinary and
// went to org-b (QA round 36, area A). Such an entry cannot be read and
// withholds, as a label whose code is no string does; a Coding with no code
// (a display alone) is still none, and a well-formed label is read.
func TestSecurityEntryNotACodingQA36A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	obs := func(entry string) string {
		return `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"},"meta":{"security":[` + entry + `]}}`
	}
	const sud = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`
	for _, entry := range []string{
		`{"coding":[` + sud + `]}`,
		`{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}],"text":"restricted"}`,
		`{"valueCoding":` + sud + `}`,
		`{"c\u006fding":[` + sud + `]}`,
	} {
		r, err := l.Label([]byte(obs(entry)))
		if err == nil || !strings.Contains(err.Error(), "meta.security") {
			t.Errorf("%s: labels %v, err %v; want an error naming meta.security", entry, r.Labels, err)
		}
	}
	for _, c := range []struct {
		entry string
		n     int
	}{
		{`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","display":"SUD"}`, 0},
		{`{}`, 0},
		{`{"id":"x","extension":[{"url":"http://example.org/x","valueString":"y"}],"_code":{"extension":[]},"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","version":"1","code":"SUD","display":"SUD","userSelected":false}`, 1},
	} {
		r, err := l.Label([]byte(obs(c.entry)))
		if err != nil || len(r.Labels) != c.n {
			t.Errorf("%s: labels %v, err %v; want %d labels", c.entry, r.Labels, err, c.n)
		}
	}
}

package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// TestExistingLabelSpellingsQA25C: an upstream label written in a spelling
// a FHIR server accepts (https, a trailing slash, white space, "|version",
// "www.", another case, a bare OID, a code in another case or with white
// space) is the label it spells. Read as a label of an unknown system, it
// left a resource labelled at ingestion (whose sensitivity is in its
// labels only) ordinary, and stayed in a Bundle's high-water mark after
// the entry it described was withheld.
func TestExistingLabelSpellingsQA25C(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	for _, c := range []struct{ name, conf, sens string }{
		{"https", `{"system":"https://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`, `{"system":"https://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`},
		{"trailing slash", `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality/","code":"R"}`, `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode/","code":"SUD"}`},
		{"white space", `{"system":" http://terminology.hl7.org/CodeSystem/v3-Confidentiality ","code":" R "}`, `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode\t","code":"SUD "}`},
		{"version", `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|3.0.0","code":"R"}`, `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode|9.0.0","code":"SUD"}`},
		{"case and www", `{"system":"HTTP://WWW.terminology.hl7.org/CodeSystem/v3-confidentiality","code":"R"}`, `{"system":"http://terminology.hl7.org/codesystem/v3-actcode","code":"SUD"}`},
		{"bare OID", `{"system":"2.16.840.1.113883.5.25","code":"R"}`, `{"system":"2.16.840.1.113883.5.4","code":"SUD"}`},
		{"legacy with slash", `{"system":"http://hl7.org/fhir/v3/Confidentiality/","code":"R"}`, `{"system":"https://hl7.org/fhir/v3/ActCode","code":"SUD"}`},
		{"code case", `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"r"}`, `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"sud"}`},
		{"no system, code case", `{"code":"r"}`, `{"code":"Sud"}`},
	} {
		in := `{"resourceType":"DocumentReference","id":"d","meta":{"security":[` + c.conf + `,` + c.sens + `]}}`
		r, err := l.Label([]byte(in))
		if err != nil || !r.Labels.Has(labels.Restricted) || !r.Labels.Has(labels.SUD) || !r.Existing.Has(labels.SUD) {
			t.Errorf("%s: labels %v, existing %v, %v; want SUD and R", c.name, r.Labels, r.Existing, err)
		}
		// A Bundle summarising nothing sensitive drops them.
		bundle := []byte(`{"resourceType":"Bundle","meta":{"security":[` + c.conf + `,` + c.sens + `]},"type":"searchset"}`)
		edits, err := labels.MarkEdits(bundle, nil)
		if err != nil {
			t.Fatalf("%s: MarkEdits: %v", c.name, err)
		}
		out, err := fjson.Apply(nil, bundle, edits)
		if err != nil {
			t.Fatalf("%s: Apply: %v", c.name, err)
		}
		if s := string(out); strings.Contains(s, `"code"`) {
			t.Errorf("%s: Bundle high-water mark keeps a withheld entry's labels: %s", c.name, s)
		}
	}
	// A label of another system, or an unknown code, is still its own.
	r, err := l.Label([]byte(`{"resourceType":"Basic","meta":{"security":[{"system":"http://example.org/labels","code":"sud"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"NOTACODE"}]}}`))
	if err != nil || r.Labels.Has(labels.SUD) || !r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: "NOTACODE"}) {
		t.Errorf("other labels: %v, %v", r.Labels, err)
	}
	// A rule's label system is read so too.
	if got := labels.NormalizeSystem(" https://terminology.hl7.org/CodeSystem/v3-ActCode/ "); got != labels.SystemActCode {
		t.Errorf("NormalizeSystem = %q", got)
	}
	if got := labels.NormalizeSystem("http://example.org/labels/"); got != "http://example.org/labels/" {
		t.Errorf("NormalizeSystem changed another system: %q", got)
	}
}

// TestLabelUnderAnotherSystemQA25C: a known label code filed under another
// label system than its own (R under v3-ActCode, SUD under
// v3-Confidentiality, both as some EHRs write them) is that label: read
// as an unknown code, it left its resource ordinary and stayed in a
// Bundle's mark.
func TestLabelUnderAnotherSystemQA25C(t *testing.T) {
	t.Parallel()
	in := `{"resourceType":"DocumentReference","id":"d","meta":{"security":[` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"R"},` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"sud"}]}}`
	r, err := labels.Default().Label([]byte(in))
	if err != nil || !r.Labels.Has(labels.Restricted) || !r.Labels.Has(labels.SUD) {
		t.Errorf("labels %v, %v; want R and SUD", r.Labels, err)
	}
	// An unknown code stays under its system (an unknown confidentiality
	// reads as R: TestUnknownConfidentialityReadsRestricted).
	r, err = labels.Default().Label([]byte(`{"resourceType":"Basic","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"XYZZY"}]}}`))
	if err != nil || !r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: "XYZZY"}) {
		t.Errorf("unknown code: %v, %v", r.Labels, err)
	}
}

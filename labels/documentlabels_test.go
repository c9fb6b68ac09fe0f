package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestDocumentOwnLabels: a DocumentReference's securityLabel and a
// Composition's confidentiality are labels of the resource, as
// meta.security is (QA round 32, area B's finding): an EHR's psychotherapy
// note labelled PSYTHPN, a document it marked SUD or R, went out as
// ordinary data. The same members of other types, and codes that are no
// label, label nothing.
func TestDocumentOwnLabels(t *testing.T) {
	t.Parallel()
	docRef := func(labelsJSON string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"securityLabel":` + labelsJSON + `,"content":[{"attachment":{"contentType":"text/plain","data":"bm90ZQ=="}}]}`
	}
	act := func(code string) labels.Label { return labels.Label{System: labels.SystemActCode, Code: code} }
	conf := func(code string) labels.Label { return labels.Label{System: labels.SystemConfidentiality, Code: code} }
	cases := []struct {
		name string
		in   string
		want []labels.Label // each must be there
		none bool           // no label at all
		rule string         // the first reason's rule
		path string
	}{
		{name: "SUD", in: docRef(`[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}]`),
			want: []labels.Label{act("SUD")}, rule: "DocumentReference.securityLabel", path: "securityLabel[0].coding[0]"},
		{name: "restricted, second label, second coding", in: docRef(`[{"text":"x"},{"coding":[{"system":"http://example.org/local","code":"x"},{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}]`),
			want: []labels.Label{conf("R")}, rule: "DocumentReference.securityLabel", path: "securityLabel[1].coding[1]"},
		{name: "legacy system, lower case", in: docRef(`[{"coding":[{"system":"http://hl7.org/fhir/v3/ActCode","code":"psythpn"}]}]`),
			want: []labels.Label{act("PSYTHPN")}},
		{name: "ETH and V", in: docRef(`[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]},{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"V"}]}]`),
			want: []labels.Label{act("ETH"), conf("V")}},
		{name: "a code that is no label", in: docRef(`[{"coding":[{"system":"http://example.org/local","code":"SUD"}]}]`), none: true},
		// one object rather than an array of one: its one element (QA round 34, area A)
		{name: "not an array", in: docRef(`{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}`),
			want: []labels.Label{act("SUD")}, rule: "DocumentReference.securityLabel", path: "securityLabel[0].coding[0]"},
		{name: "a string", in: docRef(`"SUD"`), none: true},
		{name: "composition V", in: `{"resourceType":"Composition","id":"c1","status":"final","confidentiality":"V","subject":{"reference":"Patient/p1"},"type":{"text":"note"},"date":"2024-01-01","author":[{"reference":"Practitioner/x"}],"title":"t"}`,
			want: []labels.Label{conf("V")}, rule: "Composition.confidentiality", path: "confidentiality"},
		{name: "composition an unknown code reads as R", in: `{"resourceType":"Composition","confidentiality":"X","subject":{"reference":"Patient/p1"}}`,
			want: []labels.Label{conf("R")}},
		{name: "securityLabel of another type", in: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}]}`, none: true},
		{name: "confidentiality of another type", in: `{"resourceType":"DocumentReference","status":"current","confidentiality":"V","subject":{"reference":"Patient/p1"}}`, none: true},
		{name: "type after the member", in: `{"securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}],"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"}}`,
			want: []labels.Label{act("HIV")}},
		{name: "escaped member name", in: `{"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"},"security\u004cabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}]}`,
			want: []labels.Label{act("HIV")}},
	}
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.none && len(r.Labels) != 0 {
			t.Errorf("%s: labels %v; want none", c.name, r.Labels)
		}
		for _, w := range c.want {
			if !r.Labels.Has(w) {
				t.Errorf("%s: labels %v; want %v", c.name, r.Labels, w)
			}
		}
		if c.rule != "" && (len(r.Reasons) == 0 || r.Reasons[0].Rule != c.rule || r.Reasons[0].Path != c.path) {
			t.Errorf("%s: reasons %+v; want rule %s at %s", c.name, r.Reasons, c.rule, c.path)
		}
	}
}

// TestNumericCode: a code written as a JSON number (invalid FHIR, stored
// as sent by a lax server) is matched by its digits (QA round 32, area
// E's finding): buprenorphine as RxNorm 1819 and HIV as SNOMED 86406008
// were ordinary. A number that is no code of a rule labels nothing; one
// written with an exponent is the number it is (QA round 33, area D).
func TestNumericCode(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	for _, c := range []struct {
		name, in, want string
	}{
		{"buprenorphine", `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":1819}]}}`, "SUD"},
		{"HIV", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":86406008}]}}`, "HIV"},
		{"an ordinary number", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":38341003}]}}`, ""},
		{"an exponent, the HIV code", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":8.6406008e7}]}}`, "HIV"},
		{"a fraction", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":86406008.5}]}}`, ""},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.want == "" {
			if len(r.Labels) != 0 {
				t.Errorf("%s: labels %v; want none", c.name, r.Labels)
			}
			continue
		}
		if !r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: c.want}) {
			t.Errorf("%s: labels %v; want %s", c.name, r.Labels, c.want)
		}
	}
}

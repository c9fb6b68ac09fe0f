package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAttachedDocumentLabelsQA32D: a document in an attachment carries its
// own security labels as a document at the top level does (cc38417): a
// C-CDA its confidentialityCode (in every C-CDA's header) and, under the
// DS4P CDA IG, security observations coded in v3-ActCode; a FHIR resource
// its meta.security, a DocumentReference its securityLabel and a
// Composition its confidentiality. They were read only as codings for the
// rules, which match none of them, so a DocumentReference holding a
// psychotherapy note its EHR marked V, or a Bundle whose Composition says
// R, went out as ordinary data. A C-CDA marked N, an ActCode that is no
// label (AMB) and a PDF label nothing.
func TestAttachedDocumentLabelsQA32D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	docRef := func(ct, doc string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + b64([]byte(doc)) + `"}}]}`
	}
	cda := func(inner string) string {
		return `<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="11506-3" codeSystem="2.16.840.1.113883.6.1"/>` + inner + `<component><nonXMLBody><text>Session notes</text></nonXMLBody></component></ClinicalDocument>`
	}
	for _, tt := range []struct{ name, in, want string }{
		{"C-CDA confidentialityCode V", docRef("application/xml", cda(`<confidentialityCode code="V" codeSystem="2.16.840.1.113883.5.25"/>`)), "V"},
		{"C-CDA confidentialityCode R", docRef("application/hl7-v3+xml", cda(`<confidentialityCode code="R" codeSystem="2.16.840.1.113883.5.25"/>`)), "R"},
		{"DS4P CDA security observation", docRef("application/xml", cda(`<value xsi:type="CE" code="PSYTHPN" codeSystem="2.16.840.1.113883.5.4"/>`)), "PSYTHPN"},
		{"FHIR JSON meta.security", docRef("application/fhir+json", `{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},"code":{"text":"x"}}`), "SUD"},
		{"FHIR JSON securityLabel", docRef("application/fhir+json", `{"resourceType":"DocumentReference","securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}]}]}`), "ETH"},
		{"FHIR JSON Composition in a Bundle", docRef("application/fhir+json", `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","confidentiality":"R"}}]}`), "R"},
		{"FHIR XML meta.security", docRef("application/fhir+xml", `<Condition xmlns="http://hl7.org/fhir"><meta><security><system value="http://terminology.hl7.org/CodeSystem/v3-ActCode"/><code value="HIV"/></security></meta></Condition>`), "HIV"},
	} {
		r, err := l.Label([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Labels.Has(labels.ParseLabel(tt.want)) {
			t.Errorf("%s: labels %v, want %s", tt.name, r.Labels, tt.want)
		}
	}
	for _, tt := range []struct{ name, in string }{
		{"C-CDA confidentialityCode N", docRef("application/xml", cda(`<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>`))},
		{"C-CDA encounter class AMB", docRef("application/xml", cda(`<code code="AMB" codeSystem="2.16.840.1.113883.5.4"/>`))},
		{"a PDF", docRef("application/pdf", `{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}}`)},
	} {
		r, err := l.Label([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		for _, lb := range []string{"R", "V", "SUD", "AMB"} {
			if r.Labels.Has(labels.ParseLabel(lb)) {
				t.Errorf("%s: labels %v", tt.name, r.Labels)
			}
		}
	}
}

package labels_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

func qa32aHasSUD(t *testing.T, l *labels.Labeller, in string) bool {
	t.Helper()
	r, err := l.Label([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	sud := labels.ParseLabel("SUD")
	has := r.Labels.Has(sud)
	for _, e := range r.Elements {
		has = has || e.Labels.Has(sud)
	}
	return has
}

// TestAttachmentSpellingsQA32A: an attachment's FHIR JSON or XML is read
// for codes (4418ec3, 859828a) only when its contentType said so and its
// base64 was padded and unbroken, and never inside another attachment. A
// DocumentReference whose data was a Condition coded F11.20 went out as
// ordinary when the JSON began with a byte order mark, when the base64 had
// FHIR's allowed white space, no padding or the URL alphabet, when the
// attachment had no contentType or said text/plain, and when the document
// was a Bundle holding a Binary or a DocumentReference with the C-CDA.
// FHIR XML (application/fhir+xml), whose codings are elements, not CDA's
// attributes, was not read at all.
func TestAttachmentSpellingsQA32A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	cond := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p1"}}`
	cda := `<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component><section><entry><observation classCode="OBS" moodCode="EVN"><value xsi:type="CD" code="F11.20" codeSystem="2.16.840.1.113883.6.90"/></observation></entry></section></component></structuredBody></component></ClinicalDocument>`
	b64 := base64.StdEncoding.EncodeToString
	docRef := func(ct, data string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + data + `"}}]}`
	}
	spaced := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += 4 {
			b.WriteString(s[i:min(i+4, len(s))])
			b.WriteString(" ")
		}
		return b.String()
	}
	cases := map[string]string{
		"plain JSON (control)":                  docRef("application/fhir+json", b64([]byte(cond))),
		"JSON with a byte order mark":           docRef("application/fhir+json", b64([]byte("\ufeff"+cond))),
		"JSON, base64 without padding":          docRef("application/fhir+json", base64.RawStdEncoding.EncodeToString([]byte(cond))),
		"JSON, base64 with spaces":              docRef("application/fhir+json", spaced(b64([]byte(cond)))),
		"JSON, base64 with line breaks":         docRef("application/fhir+json", strings.ReplaceAll(spaced(b64([]byte(cond))), " ", `\r\n`)),
		"JSON, base64url":                       docRef("application/fhir+json", base64.URLEncoding.EncodeToString([]byte(cond+"??>>"))),
		"JSON, charset":                         docRef("application/fhir+json; charset=utf-8", b64([]byte(cond))),
		"JSON, no contentType":                  `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"data":"` + b64([]byte(cond)) + `"}}]}`,
		"XML, no contentType":                   `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"data":"` + b64([]byte(cda)) + `"}}]}`,
		"XML as application/octet-stream":       docRef("application/octet-stream", b64([]byte(cda))),
		"JSON as text/plain":                    docRef("text/plain", b64([]byte(cond))),
		"a JSON array":                          docRef("application/json", b64([]byte("["+cond+"]"))),
		"JSON in JSON":                          docRef("application/fhir+json", b64([]byte(docRef("application/fhir+json", b64([]byte(cond)))))),
		"XML in JSON":                           docRef("application/fhir+json", b64([]byte(docRef("application/xml", b64([]byte(cda)))))),
		"a Binary of XML in a JSON Bundle":      docRef("application/fhir+json", b64([]byte(`{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Binary","contentType":"text/xml","data":"`+b64([]byte(cda))+`"}}]}`))),
		"JSON in a contained DocumentReference": `{"resourceType":"DocumentReference","id":"d1","status":"current","contained":[` + docRef("application/fhir+json", b64([]byte(cond))) + `],"content":[{"attachment":{"url":"#d1"}}]}`,
		"FHIR XML":                              docRef("application/fhir+xml", b64([]byte(`<Condition xmlns="http://hl7.org/fhir"><id value="c1"/><code><coding><system value="http://hl7.org/fhir/sid/icd-10-cm"/><display value="x"/><code value="F11.20"/></coding></code></Condition>`))),
		"XML with a BOM":                        docRef("application/xml", b64([]byte("\ufeff"+cda))),
		"XML UTF-16":                            docRef("application/xml", b64(utf16le("<?xml version=\"1.0\" encoding=\"UTF-16\"?>"+cda))),
		"JSON with code before system, escaped": docRef("application/fhir+json", b64([]byte(`{"resourceType":"Condition","code":{"coding":[{"code":"F11.20","system":"http:\/\/hl7.org\/fhir\/sid\/icd-10-cm"}]}}`))),
		"JSON valueCoding in extension":         docRef("application/fhir+json", b64([]byte(`{"resourceType":"Basic","extension":[{"url":"x","valueCoding":{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}}]}`))),
	}
	for name, in := range cases {
		if !qa32aHasSUD(t, l, in) {
			t.Errorf("%s: not SUD", name)
		}
	}
	// A system and a code of two codings are no coding; a PDF is not read.
	for name, in := range map[string]string{
		"FHIR XML, system and code apart": docRef("application/fhir+xml", b64([]byte(`<Condition xmlns="http://hl7.org/fhir"><code><coding><system value="http://hl7.org/fhir/sid/icd-10-cm"/></coding><coding><code value="F11.20"/></coding></code></Condition>`))),
		"a PDF holding JSON":              docRef("application/pdf", b64([]byte(cond))),
	} {
		if qa32aHasSUD(t, l, in) {
			t.Errorf("%s: SUD", name)
		}
	}
}

func utf16le(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

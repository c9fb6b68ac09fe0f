package labels_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAttachmentSpellingsQA33D: an attachment's document went unread, and
// the record out as ordinary, in spellings any reader of it reads: base64
// mixing the standard and the URL alphabet (Node's Buffer reads both at
// once), a document sniffed (text/plain, no contentType) that begins with
// more than twelve bytes of white space, UTF-16 or UTF-32 without a byte
// order mark (XML's Appendix F detects them), UTF-32 with one, an XML
// attribute spelled with a character reference (code="&#x46;11.20"), and
// an Attachment whose document is a data: URL in url instead of data. A
// PDF and an ordinary document stay ordinary.
func TestAttachmentSpellingsQA33D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	cond := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p1"}}`
	cda := `<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component><section><entry><observation classCode="OBS" moodCode="EVN"><value xsi:type="CD" code="F11.20" codeSystem="2.16.840.1.113883.6.90"/></observation></entry></section></component></structuredBody></component></ClinicalDocument>`
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	docRef := func(ct, data string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + data + `"}}]}`
	}
	// A comment whose bytes give both '+' and '/' in base64; one '+' is
	// written '-'.
	mixed := b64([]byte(cda + "<!-- ?>>??>~~~ -->"))
	if !strings.Contains(mixed, "+") || !strings.Contains(mixed, "/") {
		t.Fatal("the mixed case needs both characters")
	}
	mixed = strings.Replace(mixed, "+", "-", 1)
	utf16be := func(s string) []byte {
		var out []byte
		for _, r := range s {
			out = append(out, byte(r>>8), byte(r))
		}
		return out
	}
	utf32le := func(s string, bom bool) []byte {
		var out []byte
		if bom {
			out = append(out, 0xff, 0xfe, 0, 0)
		}
		for _, r := range s {
			out = append(out, byte(r), byte(r>>8), byte(r>>16), 0)
		}
		return out
	}
	for name, in := range map[string]string{
		"base64, the two alphabets mixed":  docRef("application/xml", mixed),
		"text/plain, 16 blanks first":      docRef("text/plain", b64([]byte(strings.Repeat(" ", 16)+cond))),
		"no contentType, 13 newlines":      `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"data":"` + b64([]byte(strings.Repeat("\n", 13)+cda)) + `"}}]}`,
		"UTF-16LE without a mark":          docRef("application/xml", b64(utf16le(cda)[2:])),
		"UTF-16BE without a mark, charset": docRef("text/xml; charset=utf-16", b64(utf16be(cda))),
		"UTF-16LE without a mark, sniffed": docRef("text/plain", b64(utf16le(cond)[2:])),
		"UTF-32 with a mark":               docRef("application/fhir+json", b64(utf32le(cond, true))),
		"UTF-32 without a mark":            docRef("application/xml", b64(utf32le(cda, false))),
		"a hex character reference":        docRef("application/xml", b64([]byte(strings.Replace(cda, `code="F11.20"`, `code="&#x46;11.20"`, 1)))),
		"a character reference in the OID": docRef("application/xml", b64([]byte(strings.Replace(cda, `codeSystem="2.16.840.1.113883.6.90"`, `codeSystem="2.16.840.1.113883.6&#46;90"`, 1)))),
		"FHIR XML, a character reference":  docRef("application/fhir+xml", b64([]byte(`<Condition xmlns="http://hl7.org/fhir"><code><coding><system value="http://hl7.org/fhir/sid/icd-10-cm"/><code value="&#70;11.20"/></coding></code></Condition>`))),
		"a data: URL in url":               `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"url":"data:application/xml;base64,` + b64([]byte(cda)) + `"}}]}`,
		"a data: URL, contentType beside":  `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"contentType":"application/fhir+json","url":"data:;base64,` + b64([]byte(cond)) + `"}}]}`,
		"a data: URL, percent-encoded":     `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueAttachment":{"url":"data:text/xml,` + strings.ReplaceAll(strings.ReplaceAll(cda, " ", "%20"), `"`, "%22") + `"}}`,
	} {
		if !qa32aHasSUD(t, l, in) {
			t.Errorf("%s: not SUD", name)
		}
	}
	for name, in := range map[string]string{
		"a PDF data: URL":              `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"url":"data:application/pdf;base64,` + b64([]byte(cda)) + `"}}]}`,
		"an ordinary document, UTF-16": docRef("application/xml", b64(utf16le(strings.Replace(cda, "F11.20", "J45.909", 1))[2:])),
		"an ordinary URL":              `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"contentType":"application/xml","url":"https://ehr.example/doc/F11.20"}}]}`,
		"an unknown entity stays":      docRef("application/xml", b64([]byte(strings.Replace(cda, `code="F11.20"`, `code="&x;F11.20"`, 1)))),
	} {
		if qa32aHasSUD(t, l, in) {
			t.Errorf("%s: SUD", name)
		}
	}
}

// TestNumericSpellingsQA33D: a JSON number is the same number however it
// is written, and JavaScript's JSON (and most readers') shows 1.819e3,
// 1819.0 and 1819E0 as 1819: a MedicationRequest for RxNorm 1819
// (buprenorphine) or an attached HIV Condition of SNOMED 8.6406008e7 went
// out as ordinary (a3bf0e7, 76d2a55 matched the digits as written). And
// the program's NPI written as a number, in the resource or in an
// attachment's FHIR JSON, did not make the record the program's. A number
// that reads as no code of a rule still labels nothing.
func TestNumericSpellingsQA33D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{Name: "clinic",
		References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}}}})
	if err != nil {
		t.Fatal(err)
	}
	med := func(code string) string {
		return `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":` + code + `}]}}`
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	attached := func(doc string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"contentType":"application/fhir+json","data":"` + b64(doc) + `"}}]}`
	}
	for _, c := range []struct {
		name, in, want string
	}{
		{"1.819e3", med("1.819e3"), "SUD"},
		{"1819.0", med("1819.0"), "SUD"},
		{"1819E0", med("1819E0"), "SUD"},
		{"18190e-1", med("18190e-1"), "SUD"},
		{"attached 8.6406008e7", attached(`{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":8.6406008e7}]}}`), "HIV"},
		{"1.8191e3 is no code", med("1.8191e3"), ""},
		{"1e400 is no code", med("1e400"), ""},
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
	for name, in := range map[string]string{
		"serviceProvider's NPI a number": `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceProvider":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":1847002312}}}`,
		"attached author's NPI a number": attached(`{"resourceType":"Composition","author":[{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":1847002312}}]}`),
		"C-CDA NPI, a character ref":     `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"contentType":"application/xml","data":"` + b64(`<ClinicalDocument><author><assignedAuthor><id root="2.16.840.1.113883.4.6" extension="&#49;847002312"/></assignedAuthor></author></ClinicalDocument>`) + `"}}]}`,
	} {
		r, err := l.Label([]byte(in))
		if err != nil || r.Program != "clinic" || !r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's", name, r.Program, r.Labels, err)
		}
	}
	r, err := l.Label([]byte(`{"resourceType":"Encounter","status":"finished","serviceProvider":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":1111111112}}}`))
	if err != nil || r.Program != "" {
		t.Errorf("another NPI as a number: program %q, %v", r.Program, err)
	}
}

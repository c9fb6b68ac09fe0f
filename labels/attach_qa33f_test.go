package labels_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ds4p/ds4p/labels"
)

// qa33fDocRef is a DocumentReference whose one attachment has the
// contentType ct (none when empty) and the base64 of doc as its data.
func qa33fDocRef(ct string, doc []byte) string {
	a := `"data":"` + base64.StdEncoding.EncodeToString(doc) + `"`
	if ct != "" {
		a = `"contentType":"` + ct + `",` + a
	}
	return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{` + a + `}}]}`
}

func qa33fUTF16LE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestHL7v2SniffQA33F: an HL7 v2 message coded F11.20 (ICD-10-CM) is read
// however its text begins, as the XML and JSON sniffs read theirs: the
// sniff saw the first 12 bytes only, so 5 to 11 bytes of white space, a
// UTF-8 byte order mark and a blank line, the MLLP start block (0x0B) a
// message captured from the wire keeps, or UTF-16 (with or without its
// mark) left the message unread and the record ordinary; so did the
// media types application/hl7-v2+er7 and application/x-hl7-v2.
func TestHL7v2SniffQA33F(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	msg := "MSH|^~\\&|LAB|H|EHR|H|20260101||ADT^A08|1|P|2.5.1\rPID|1||77^^^H^MR||Doe^Jane\rDG1|1||F11.20^Opioid dependence, uncomplicated^I10C||20260101|F\r"
	for name, doc := range map[string][]byte{
		"as sent":                     []byte(msg),
		"five blank lines":            []byte("\n\n\n\n\n" + msg),
		"eleven spaces":               []byte(strings.Repeat(" ", 11) + msg),
		"a byte order mark and CR LF": []byte("\xef\xbb\xbf\r\n" + msg),
		"MLLP framing":                []byte("\x0b" + msg + "\x1c\r"),
		"UTF-16LE, no mark":           qa33fUTF16LE(msg),
		"UTF-16LE with its mark":      append([]byte{0xff, 0xfe}, qa33fUTF16LE(msg)...),
	} {
		for _, ct := range []string{"text/plain", "application/hl7-v2", "application/hl7-v2+er7", "application/x-hl7-v2", ""} {
			if !qa32aHasSUD(t, l, qa33fDocRef(ct, doc)) {
				t.Errorf("%s, contentType %q: not SUD", name, ct)
			}
		}
	}
}

// TestHL7v2CodingsQA33F: the codings of a v2 message the rules can read
// but v2Codes did not: a CWE's second alternate (components 10 and 12,
// v2.6 on), a coding system named by its OID alone (CWE-14, v2.7 on), and
// a medication coded in WHO ATC (table 0396 "ATC") in an RXE or RXD.
func TestHL7v2CodingsQA33F(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	msh := "MSH|^~\\&|LAB|H|EHR|H|20260101||ORU^R01|1|P|2.7\r"
	for name, c := range map[string]struct{ msg, want string }{
		"second alternate":        {msh + "DG1|1||1^local^L^2^other^L^^^^F11.20^Opioid dependence^I10C||20260101|F\r", "SUD"},
		"coding system OID":       {msh + "DG1|1||F11.20^Opioid dependence^^^^^^^^^^^^2.16.840.1.113883.6.90||20260101|F\r", "SUD"},
		"ATC in an RXD":           {msh + "RXD|1|J05AR20^bictegravir, emtricitabine and tenofovir alafenamide^ATC|20260101|30|TAB\r", "HIV"},
		"alternate ATC in an RXE": {msh + "RXE|^^^20260101|1^local^L^N07BC51^buprenorphine, combinations^ATC|1||TAB\r", "SUD"},
	} {
		r, err := l.Label([]byte(qa33fDocRef("application/hl7-v2", []byte(c.msg))))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Labels.Has(labels.ParseLabel(c.want)) {
			t.Errorf("%s: labels %v; want %s", name, r.Labels, c.want)
		}
	}
}

// TestSniffStaysOrdinaryQA33F: text that merely looks like what the
// sniffs read labels nothing: a note beginning "MSH" (mental status, a
// field separator of ':'), binary data whose every other byte is zero, a
// number near a code.
func TestSniffStaysOrdinaryQA33F(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	med := func(code string) string {
		return `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":` + code + `}]}}`
	}
	for name, in := range map[string]string{
		"MSH: a note":         qa33fDocRef("text/plain", []byte("MSH: alert, oriented; hx F11.20 per I10C, LN 56888-1 neg\n")),
		"binary, zero bytes":  qa33fDocRef("application/octet-stream", []byte("F\x001\x001\x00.\x002\x000\x00")),
		"1819.0001":           med("1819.0001"),
		"-1819":               med("-1819"),
		"-1.819e3":            med("-1.819e3"),
		"1819e-308 underflow": med("1819e-400"),
		"ritonavir tablet":    `{"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"900575"}]}}`,
	} {
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Labels) != 0 {
			t.Errorf("%s: labels %v; want none", name, r.Labels)
		}
	}
	for name, in := range map[string]string{"18.19e2": med("18.19e2"), "1819.000": med("1819.000")} {
		r, err := l.Label([]byte(in))
		if err != nil || !r.Labels.Has(labels.ParseLabel("SUD")) {
			t.Errorf("%s (1819 to a JSON reader): labels %v, %v; want SUD", name, r.Labels, err)
		}
	}
}

// TestNumericNPIQA33F: a Part 2 program's NPI written as a JSON number
// with a fraction or an exponent (1847002312.0, 1.847002312e9: 1847002312
// to a JavaScript reader, as 1.819e3 is the code 1819) did not make the
// record the program's; the digits were compared as written.
func TestNumericNPIQA33F(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{Name: "clinic",
		References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1847002312.0", "1.847002312e9"} {
		in := `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"serviceProvider":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":` + v + `}}}`
		r, err := l.Label([]byte(in))
		if err != nil || r.Program != "clinic" {
			t.Errorf("NPI %s: program %q, %v; want the program's", v, r.Program, err)
		}
		att := qa33fDocRef("application/fhir+json", []byte(`{"resourceType":"Composition","author":[{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":`+v+`}}]}`))
		if r, err = l.Label([]byte(att)); err != nil || r.Program != "clinic" {
			t.Errorf("attached NPI %s: program %q, %v; want the program's", v, r.Program, err)
		}
	}
}

// TestDataURLBesideDataQA33F: an Attachment whose url is a data: URL
// holding the document and whose data is something else (an empty or a
// placeholder text) was read for its data alone. FHIR says the two
// SHALL be the same content, a viewer may open either.
func TestDataURLBesideDataQA33F(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	cond := `{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	u := "data:application/fhir+json;base64," + base64.StdEncoding.EncodeToString([]byte(cond))
	in := `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"contentType":"application/fhir+json","data":"` + base64.StdEncoding.EncodeToString([]byte("{}")) + `","url":"` + u + `"}}]}`
	if !qa32aHasSUD(t, l, in) {
		t.Error("a data: URL beside a placeholder data: not SUD")
	}
}

// TestDataURLPercentQA33F: a data: URL of percent-encoded text holding a
// '%' that begins no escape ("50% better" written raw, which browsers
// keep as written) was not read at all: url.PathUnescape failed, and the
// C-CDA coded F11.20 in it went out as ordinary.
func TestDataURLPercentQA33F(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	cda := `<ClinicalDocument xmlns="urn:hl7-org:v3"><text>cravings 50% better</text><value code="F11.20" codeSystem="2.16.840.1.113883.6.90"/></ClinicalDocument>`
	u := "data:text/xml," + strings.NewReplacer("<", "%3C", ">", "%3E", `"`, "%22", " ", "%20").Replace(cda)
	in := `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"url":"` + u + `"}}]}`
	if !strings.Contains(in, "50%%20better") {
		t.Fatalf("test input: %s", in)
	}
	if !qa32aHasSUD(t, l, in) {
		t.Error("a data: URL with a raw '%': not SUD")
	}
}

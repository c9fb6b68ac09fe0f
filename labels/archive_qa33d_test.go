package labels_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestArchivedAttachmentQA33D: a C-CDA or a FHIR Condition coded F11.20
// gzipped (application/gzip, or octet-stream and sniffed), or in a zip
// file (an IHE XDM package: application/zip, its C-CDA under IHE_XDM/),
// went out as ordinary: the labeller read XML and JSON only. A zip of an
// ordinary document, and a zip inside a PDF's type, stay ordinary.
func TestArchivedAttachmentQA33D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	cond := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p1"}}`
	cda := `<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component><section><entry><observation classCode="OBS" moodCode="EVN"><value xsi:type="CD" code="F11.20" codeSystem="2.16.840.1.113883.6.90"/></observation></entry></section></component></structuredBody></component></ClinicalDocument>`
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	zipOf := func(files map[string][]byte) []byte {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for name, content := range files {
			f, _ := w.Create(name)
			f.Write(content)
		}
		w.Close()
		return b.Bytes()
	}
	b64 := base64.StdEncoding.EncodeToString
	docRef := func(ct string, data []byte) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + b64(data) + `"}}]}`
	}
	xdm := zipOf(map[string][]byte{"INDEX.HTM": []byte("<html>index</html>"), "METADATA.XML": []byte("<x/>"), "IHE_XDM/SUBSET01/DOC0001.XML": []byte(cda)})
	for name, in := range map[string]string{
		"a gzipped C-CDA, application/gzip":                docRef("application/gzip", gz(cda)),
		"a gzipped Condition, octet-stream":                docRef("application/octet-stream", gz(cond)),
		"a gzipped C-CDA, no contentType":                  `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"data":"` + b64(gz(cda)) + `"}}]}`,
		"an XDM zip":                                       docRef("application/zip", xdm),
		"a gzipped zip":                                    docRef("application/x-gzip", gz(string(xdm))),
		"a zipped Condition, application/x-zip-compressed": docRef("application/x-zip-compressed", zipOf(map[string][]byte{"c.json": []byte(cond)})),
	} {
		if !qa32aHasSUD(t, l, in) {
			t.Errorf("%s: not SUD", name)
		}
	}
	for name, in := range map[string]string{
		"an ordinary zip":             docRef("application/zip", zipOf(map[string][]byte{"d.xml": []byte(strings.Replace(cda, "F11.20", "J45.909", 1))})),
		"a gzipped C-CDA typed a PDF": docRef("application/pdf", gz(cda)),
	} {
		if qa32aHasSUD(t, l, in) {
			t.Errorf("%s: SUD", name)
		}
	}
}

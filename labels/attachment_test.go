package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// cdaWith is a C-CDA fragment whose problem entry codes a diagnosis (an
// ICD-10-CM code by its OID), with a translation and the header's
// attributes around it, as EHRs write them.
func cdaWith(code string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!-- a progress note; <value code="F11.20" codeSystem="2.16.840.1.113883.6.90"/> in a comment is no entry -->
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <code code="11506-3" codeSystem="2.16.840.1.113883.6.1" displayName="Progress note"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <component><structuredBody><component><section>
    <entry><observation classCode="OBS" moodCode="EVN">
      <code code="282291009" codeSystem="2.16.840.1.113883.6.96"/>
      <value xsi:type="CD"
             codeSystem='2.16.840.1.113883.6.90' displayName="a &gt; b" code="` + code + `">
        <translation code="x" codeSystem="2.16.840.1.113883.19"/>
      </value>
    </observation></entry>
  </section></component></structuredBody></component>
</ClinicalDocument>`
}

// TestAttachedDocumentCodesLabel: a DocumentReference whose own type is
// an ordinary progress note, carrying a C-CDA document inline, is labelled
// by the diagnoses the document codes. Its data is base64, which the
// labeller did not read: an opioid dependence recorded in the document
// went out as ordinary data.
func TestAttachedDocumentCodesLabel(t *testing.T) {
	t.Parallel()
	docRef := func(contentType, doc string) []byte {
		return []byte(`{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},
		 "type":{"coding":[{"system":"http://loinc.org","code":"11506-3"}]},
		 "content":[{"attachment":{"contentType":"` + contentType + `","data":"` + base64.StdEncoding.EncodeToString([]byte(doc)) + `"}}]}`)
	}
	tests := []struct {
		name, contentType, code string
		sud                     bool
	}{
		{"C-CDA, opioid dependence", "application/xml", "F11.20", true},
		{"CDA media type with charset", "application/hl7-cda+xml; charset=UTF-8", "F11.20", true},
		{"text/xml in capitals", "TEXT/XML", "F10.20", true},
		{"C-CDA, hypertension", "application/xml", "I10", false},
		{"a PDF is not read", "application/pdf", "F11.20", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := labels.Default().Label(docRef(tt.contentType, cdaWith(tt.code)))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Labels.Has(labels.SUD); got != tt.sud {
				t.Errorf("SUD label %v, want %v; labels %v", got, tt.sud, r.Labels)
			}
		})
	}
	// A comment naming the code labels nothing; data that is no base64 is
	// no document.
	for _, doc := range []string{`<!-- <value code="F11.20" codeSystem="2.16.840.1.113883.6.90"/> -->`} {
		r, err := labels.Default().Label(docRef("application/xml", doc))
		if err != nil || r.Labels.Has(labels.SUD) {
			t.Errorf("a commented code: labels %v, %v", r.Labels, err)
		}
	}
	binary := []byte(`{"resourceType":"Binary","id":"b1","contentType":"application/xml","data":"` +
		base64.StdEncoding.EncodeToString([]byte(cdaWith("F11.20"))) + `"}`)
	if r, err := labels.Default().Label(binary); err != nil || !r.Labels.Has(labels.SUD) {
		t.Errorf("a Binary holding the document: labels %v, %v; want SUD", r.Labels, err)
	}
	bad := []byte(`{"resourceType":"DocumentReference","id":"d2","content":[{"attachment":{"contentType":"application/xml","data":"not base64!"}}]}`)
	if r, err := labels.Default().Label(bad); err != nil || r.Labels.Has(labels.SUD) {
		t.Errorf("undecodable data: labels %v, %v", r.Labels, err)
	}
}

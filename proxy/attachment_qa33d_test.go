package proxy

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestAttachmentSpellingsWithheldQA33D: the proxy's side of the labels
// package's TestAttachmentSpellingsQA33D and TestNumericSpellingsQA33D.
// An HIV Condition coded 8.6406008e7, a DocumentReference whose C-CDA is
// a data: URL in url, one whose base64 mixes the two alphabets and one in
// UTF-16 without a mark reached the payer and org-b (200); they read as
// missing now, and org-a, whom the consent permits, still reads them.
func TestAttachmentSpellingsWithheldQA33D(t *testing.T) {
	t.Parallel()
	cda := `<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component><section><entry><observation classCode="OBS" moodCode="EVN"><value xsi:type="CD" code="F11.20" codeSystem="2.16.840.1.113883.6.90"/></observation></entry></section></component></structuredBody></component></ClinicalDocument>`
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	docRef := func(id, attachment string) string {
		return `{"resourceType":"DocumentReference","id":"` + id + `","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":` + attachment + `}]}`
	}
	mixed := strings.Replace(b64([]byte(cda+"<!-- ?>>??>~~~ -->")), "+", "-", 1)
	var u16 []byte
	for _, r := range cda {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	qa32bWithheld(t, map[string]string{
		"Condition/n1":         `{"resourceType":"Condition","id":"n1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":8.6406008e7}]}}`,
		"DocumentReference/d1": docRef("d1", `{"url":"data:application/xml;base64,`+b64([]byte(cda))+`"}`),
		"DocumentReference/d2": docRef("d2", `{"contentType":"application/xml","data":"`+mixed+`"}`),
		"DocumentReference/d3": docRef("d3", `{"contentType":"application/xml","data":"`+b64(u16)+`"}`),
	}, "DocumentReference/d9|"+docRef("d9", `{"url":"data:application/xml;base64,`+b64([]byte(strings.Replace(cda, "F11.20", "J45.909", 1)))+`"}`))
}

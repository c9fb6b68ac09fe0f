package proxy

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestAttachedDocumentWithSUDWithheld: a DocumentReference whose own type
// is an ordinary progress note carries a C-CDA document coding an opioid
// dependence. The labeller did not read base64 data, so the document went
// to a caller the patient's consent excludes from SUD records. It now
// labels the resource by the document's codes (labels/attachment.go), and
// the proxy withholds it; the consented caller gets it.
func TestAttachedDocumentWithSUDWithheld(t *testing.T) {
	t.Parallel()
	cda := `<ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component><section><entry>` +
		`<observation classCode="OBS" moodCode="EVN"><value code="F11.20" codeSystem="2.16.840.1.113883.6.90"/></observation>` +
		`</entry></section></component></structuredBody></component></ClinicalDocument>`
	data := base64.StdEncoding.EncodeToString([]byte(cda))
	doc := `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},
	 "type":{"coding":[{"system":"http://loinc.org","code":"11506-3"}]},
	 "content":[{"attachment":{"contentType":"application/xml","data":"` + data + `"}}]}`
	h := newHarness(t, fhirJSONHandler(200, doc))
	resp, body := h.get("/fhir/DocumentReference/d1", tokOther)
	if resp.StatusCode != 404 || strings.Contains(body, data) {
		t.Errorf("the excluded caller got the document: %d %s", resp.StatusCode, body)
	}
	// The consented caller gets the resource, labelled SUD; its data goes,
	// as any sensitive resource's does (README, "What is enforced where").
	resp, body = h.get("/fhir/DocumentReference/d1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"code":"SUD"`) {
		t.Errorf("the consented caller: %d %s", resp.StatusCode, body)
	}
}

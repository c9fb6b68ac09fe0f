package labels_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestHL7v2AttachmentQA33D: an HL7 version 2 message attached as text (a
// lab's ORU, an ADT's DG1; text/plain, application/hl7-v2 or no
// contentType) was not read: an OBX or DG1 coded F11.20 (ICD-10-CM, table
// 0396 I10C or I10) or a HIV test's LOINC in OBX-3 went out as ordinary.
// An ordinary message stays ordinary.
func TestHL7v2AttachmentQA33D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	docRef := func(ct, msg string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + b64(msg) + `"}}]}`
	}
	msh := "MSH|^~\\&|LAB|H|EHR|H|20260101||ORU^R01|1|P|2.5.1\r"
	dg1 := msh + "PID|1||77^^^H^MR||Doe^Jane\rDG1|1||F11.20^Opioid dependence, uncomplicated^I10C||20260101|F\r"
	for name, in := range map[string]string{
		"DG1, text/plain":                     docRef("text/plain", dg1),
		"OBX value, application/hl7-v2":       docRef("application/hl7-v2", msh+"OBX|1|CWE|11450-4^Problem list^LN||F11.20^Opioid dependence^I10||||||F\n"),
		"OBX alternate coding, no type":       `{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"data":"` + b64(msh+"OBX|1|CWE|x^y^L^11450-4^Problem^LN||1^local^L^F11.20^Opioid^I10C||||||F\r") + `"}}]}`,
		"OBX-3 an HIV test's LOINC, repeated": docRef("text/plain", msh+"OBX|1|ST|zz^^L~56888-1^HIV 1+2 Ab^LN||negative||||||F\r"),
	} {
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Labels) == 0 || !r.Labels.Has(labels.ParseLabel("SUD")) && !r.Labels.Has(labels.ParseLabel("HIV")) {
			t.Errorf("%s: labels %v", name, r.Labels)
		}
	}
	if in := docRef("text/plain", strings.ReplaceAll(dg1, "F11.20", "J45.909")); qa32aHasSUD(t, l, in) {
		t.Error("an ordinary message: SUD")
	}
}

package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestHL7v2ProgramQA34C: an HL7 version 2 message attached to a record
// that names a Part 2 program by its NPI (the sending facility MSH-4, an
// ordering facility ORC-21, an ordering provider ORC-12, an assigned
// location's facility PV1-3) makes the record the program's, as the
// program named in an attached C-CDA or FHIR document does. Read for its
// coded fields only, a lab's ORU from the program went to a payer as
// ordinary data. Another NPI, and a message with none, stay ordinary.
func TestHL7v2ProgramQA34C(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{
		{Name: "clinic", References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	docRef := func(ct, msg string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + b64(msg) + `"}}]}`
	}
	const pid = "PID|1||77^^^H^MR||Doe^Jane\r"
	const obx = "OBX|1|ST|789-8^RBC^LN||4.5||||||F\r"
	for name, msg := range map[string]string{
		"MSH-4 sending facility":   "MSH|^~\\&|LAB|RIVERSIDE^1847002312^NPI|EHR|H|20260101||ORU^R01|1|P|2.5.1\r" + pid + obx,
		"ORC-21 ordering facility": "MSH|^~\\&|LAB|H|EHR|H|20260101||ORU^R01|1|P|2.5.1\r" + pid + "ORC|RE|||||||||||||||||||||Riverside Recovery^L^^^^NPI&2.16.840.1.113883.4.6&ISO^NPI^^^1847002312\r" + obx,
		"ORC-12 ordering provider": "MSH|^~\\&|LAB|H|EHR|H|20260101||ORU^R01|1|P|2.5.1\r" + pid + "ORC|RE|||||||||||1847002312^Smith^Ann^^^^^^NPI&2.16.840.1.113883.4.6&ISO^L^^^NPI\r" + obx,
		"PV1-3 location facility":  "MSH|^~\\&|ADT|H|EHR|H|20260101||ADT^A01|1|P|2.5.1\r" + pid + "PV1|1|O|CLINIC^^^ 1847002312 &NPI\r",
		"newlines, no type":        "MSH|^~\\&|LAB|1847002312|EHR|H|20260101||ORU^R01|1|P|2.5.1\n" + pid + obx,
	} {
		for _, ct := range []string{"application/hl7-v2+er7", "text/plain"} {
			r, err := l.Label([]byte(docRef(ct, msg)))
			if err != nil || r.Program != "clinic" || !r.Labels.Has(labels.Part2Policy) || !r.Labels.Has(labels.NoRedisclosure) {
				t.Errorf("%s (%s): program %q, labels %v, %v; want the program's record", name, ct, r.Program, r.Labels, err)
			}
		}
	}
	for name, msg := range map[string]string{
		"another NPI":  "MSH|^~\\&|LAB|GENERAL^1234567893^NPI|EHR|H|20260101||ORU^R01|1|P|2.5.1\r" + pid + obx,
		"no NPI":       "MSH|^~\\&|LAB|H|EHR|H|20260101||ORU^R01|1|P|2.5.1\r" + pid + obx,
		"NPI in a run": "MSH|^~\\&|LAB|H|EHR|H|20260101||ORU^R01|1|P|2.5.1\r" + pid + "NTE|1||ref 18470023120\r",
	} {
		r, err := l.Label([]byte(docRef("text/plain", msg)))
		if err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v", name, r.Program, r.Labels, err)
		}
	}
}

package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAttachmentOlderFHIRMediaTypesQA32D: FHIR DSTU2 and STU3 servers, and
// the clients written for them, call FHIR JSON application/json+fhir and
// FHIR XML application/xml+fhir (the media types before R4's
// application/fhir+json and application/fhir+xml). An attachment so typed
// is neither JSON nor XML to jsonContentType and xmlContentType, nor one
// whose data is sniffed (only none, text/* and octet-stream are): a
// DocumentReference holding a Condition coded F11.20 went out as ordinary.
// A PDF is still not read.
func TestAttachmentOlderFHIRMediaTypesQA32D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	cond := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p1"}}`
	xml := `<Condition xmlns="http://hl7.org/fhir"><id value="c1"/><code><coding><system value="http://hl7.org/fhir/sid/icd-10-cm"/><code value="F11.20"/></coding></code></Condition>`
	b64 := base64.StdEncoding.EncodeToString
	docRef := func(ct, data string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + data + `"}}]}`
	}
	for name, in := range map[string]string{
		"application/json+fhir":                docRef("application/json+fhir", b64([]byte(cond))),
		"application/json+fhir; charset=utf-8": docRef("application/json+fhir; charset=utf-8", b64([]byte(cond))),
		"application/xml+fhir":                 docRef("application/xml+fhir", b64([]byte(xml))),
	} {
		if !qa32aHasSUD(t, l, in) {
			t.Errorf("%s: not SUD", name)
		}
	}
	if qa32aHasSUD(t, l, docRef("application/pdf", b64([]byte(cond)))) {
		t.Error("a PDF: SUD")
	}
}

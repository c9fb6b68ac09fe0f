package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestTypeRuleInJSONAttachmentQA31D: a type rule (43275a4) labels a
// resource of its type and one containing it; an attachment's FHIR JSON
// is read for its codes since 859828a, but not for the types of the
// resources in it. A DocumentReference or a Binary whose data is a
// MolecularSequence (or a document Bundle holding one), a patient's raw
// genetic sequence, was ordinary and went to a payer: GDIS, as the same
// sequence contained in the DocumentReference is.
func TestTypeRuleInJSONAttachmentQA31D(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	seq := `{"resourceType":"MolecularSequence","id":"s1","type":"dna","coordinateSystem":0,"patient":{"reference":"Patient/p1"}}`
	doc := `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","status":"final","type":{"text":"report"},"title":"t","date":"2026-01-01","author":[{"display":"lab"}]}},{"resource":` + seq + `}]}`
	gdis := labels.ParseLabel("GDIS")
	for name, in := range map[string]string{
		"a DocumentReference of a sequence": `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` + base64.StdEncoding.EncodeToString([]byte(seq)) + `"}}]}`,
		"a DocumentReference of a document": `{"resourceType":"DocumentReference","id":"d2","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` + base64.StdEncoding.EncodeToString([]byte(doc)) + `"}}]}`,
		"a Binary of a sequence":            `{"resourceType":"Binary","id":"b1","contentType":"application/fhir+json","data":"` + base64.StdEncoding.EncodeToString([]byte(seq)) + `"}`,
	} {
		r, err := l.Label([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		has := r.Labels.Has(gdis)
		for _, e := range r.Elements {
			has = has || e.Labels.Has(gdis)
		}
		if !has {
			t.Errorf("%s: labels %v, elements %+v; want GDIS", name, r.Labels, r.Elements)
		}
	}
	// An attachment of ordinary FHIR JSON stays ordinary.
	obs := `{"resourceType":"Observation","status":"final","code":{"text":"weight"}}`
	in := `{"resourceType":"DocumentReference","id":"d3","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` + base64.StdEncoding.EncodeToString([]byte(obs)) + `"}}]}`
	if r, err := l.Label([]byte(in)); err != nil || r.Labels.Has(gdis) || len(r.Elements) != 0 {
		t.Errorf("an ordinary attachment: %v %+v %v", r.Labels, r.Elements, err)
	}
}

package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestCopiesGiveNoPatientToTheServersQA35H: a drug naming no patient takes
// the patients of the records of its batch naming it (Result.Referred). A
// copy inside a stored Bundle (CopyIn), perhaps made up, gives its patient
// only to its own Bundle's resources: the server's Medication/bup beside a
// collection's copy of an order of p1 naming it stays no patient's, while
// the collection's own copy of the drug takes p1.
func TestCopiesGiveNoPatientToTheServersQA35H(t *testing.T) {
	t.Parallel()
	const bup = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1819"}]}}`
	const order = `{"resourceType":"MedicationRequest","id":"mrx","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup"}}`
	out, err := labels.Default().LabelAllResolvingCopies([][]byte{[]byte(bup), []byte(order)}, true, nil,
		[]labels.Copy{{}, {Scope: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Labels.Has(labels.SUD) {
		t.Fatalf("the drug is not SUD here: %v", out[0].Labels)
	}
	if out[0].Referred() || out[0].Patient != "" || len(out[0].Patients) > 0 {
		t.Fatalf("a collection's copy made the server's drug p1's: referred %v, patient %q %v", out[0].Referred(), out[0].Patient, out[0].Patients)
	}
	out, err = labels.Default().LabelAllResolvingCopies([][]byte{[]byte(bup), []byte(order)}, true, nil,
		[]labels.Copy{{Scope: 3}, {Scope: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Referred() || out[0].Patient != "Patient/p1" {
		t.Fatalf("the collection's own drug: referred %v, patient %q", out[0].Referred(), out[0].Patient)
	}
}

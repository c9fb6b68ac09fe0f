package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestLabelPatientConflict: a resource whose subject, patient and
// beneficiary name different patients is labelled, not refused: it is
// flagged (PatientConflict) and names no patient at all (not one of the
// conflicting ones, not one from a compartment path or any other
// reference), so that the proxy withholds it alone instead of the whole
// response. The same resource reads the same through Label, LabelAll and
// Batch.AddChecked (the proxy's way).
func TestLabelPatientConflict(t *testing.T) {
	t.Parallel()
	const sud = `"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}`
	tests := []struct {
		name, in string
		conflict bool
		patient  string
	}{
		{name: "patient and subject", in: `{"resourceType":"Claim","patient":{"reference":"Patient/a"},"subject":{"reference":"Patient/b"}}`, conflict: true},
		{name: "beneficiary and patient", in: `{"resourceType":"Coverage","beneficiary":{"reference":"Patient/a"},"patient":{"reference":"https://x/Patient/b/_history/2"}}`, conflict: true},
		{name: "different identifiers", in: `{"resourceType":"Claim","patient":{"identifier":{"system":"urn:mrn","value":"1"}},"subject":{"identifier":{"system":"urn:mrn","value":"2"}}}`, conflict: true},
		// The conflicting subject is not replaced by another path's patient
		// (performer), nor by a Patient referred to anywhere.
		{name: "with a compartment patient", in: `{"resourceType":"Observation","subject":{"reference":"Patient/a"},"patient":{"reference":"Patient/b"},"performer":[{"reference":"Patient/c"}],"focus":[{"reference":"Patient/d"}]}`, conflict: true},
		{name: "sensitive", in: `{"resourceType":"Condition","subject":{"reference":"Patient/a"},"patient":{"reference":"Patient/b"},` + sud + `}`, conflict: true},
		{name: "same patient, two spellings", in: `{"resourceType":"Claim","patient":{"reference":"Patient/a"},"subject":{"reference":"https://x/Patient/a/_history/1"}}`, patient: "Patient/a"},
		{name: "reference beside another identifier", in: `{"resourceType":"Claim","patient":{"reference":"Patient/a"},"subject":{"identifier":{"system":"urn:mrn","value":"2"}}}`, patient: "Patient/a"},
		{name: "same identifier twice", in: `{"resourceType":"Claim","patient":{"identifier":{"system":"urn:mrn","value":"1"}},"subject":{"identifier":{"system":"urn:mrn","value":"1"}}}`},
	}
	l := synthLabeller(t, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			one, err := l.Label([]byte(tt.in))
			if err != nil {
				t.Fatalf("Label: %v", err)
			}
			all, err := l.LabelAll([][]byte{[]byte(tt.in)})
			if err != nil {
				t.Fatalf("LabelAll: %v", err)
			}
			var checked labels.Result
			b := l.NewBatch()
			if _, _, err := b.AddChecked([]byte(tt.in), 0, 128, &checked); err != nil {
				t.Fatalf("AddChecked: %v", err)
			}
			b.Finish()
			for way, r := range map[string]labels.Result{"Label": one, "LabelAll": all[0], "AddChecked": checked} {
				if r.PatientConflict != tt.conflict || r.Patient != tt.patient {
					t.Errorf("%s: PatientConflict %v, Patient %q; want %v, %q", way, r.PatientConflict, r.Patient, tt.conflict, tt.patient)
				}
				if tt.conflict && (r.SubjectPatient != "" || r.Patients != nil || r.PatientIdentifier != "") {
					t.Errorf("%s: a conflict names a patient: %+v", way, r)
				}
				if tt.name == "sensitive" && !r.Labels.Has(labels.SUD) {
					t.Errorf("%s: the conflict hid the resource's labels: %v", way, r.Labels)
				}
			}
		})
	}
}

package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 34, area A: a top-level subject, patient or beneficiary
// written otherwise than as a Reference with a reference string (invalid
// FHIR JSON, but a server may store it, and other readers show it). A
// string is the reference it spells; a Reference whose reference is no
// string names a patient that cannot be told (a conflict). Read as naming
// no patient, a Condition whose subject named p1 and whose patient so
// named p2 was p1's alone, and went to the organisation p1's consent
// permits.
func TestPatientMemberShapesQA34A(t *testing.T) {
	t.Parallel()
	const code = `"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}`
	l := labels.Default()
	for _, c := range []struct {
		name, members string
		patient       string
		conflict      bool
	}{
		{"patient a string", `"subject":{"reference":"Patient/p1"},"patient":"Patient/p2"`, "", true},
		{"patient's reference an object", `"subject":{"reference":"Patient/p1"},"patient":{"reference":{"reference":"Patient/p2"}}`, "", true},
		{"subject's reference a number", `"subject":{"reference":12}`, "", true},
		{"subject a string", `"subject":"Patient/p1"`, "Patient/p1", false},
		{"subject and patient strings, the same", `"subject":"Patient/p1","patient":"Patient/p1"`, "Patient/p1", false},
		{"subject's reference null", `"subject":{"reference":null}`, "", false},
		{"subject a string naming no patient", `"subject":"Bob Jones"`, "", false},
	} {
		r, err := l.Label([]byte(`{"resourceType":"Condition","id":"c",` + c.members + `,` + code + `}`))
		if err != nil || r.Patient != c.patient || r.PatientConflict != c.conflict {
			t.Errorf("%s: patient %q, conflict %v, %v; want %q, %v", c.name, r.Patient, r.PatientConflict, err, c.patient, c.conflict)
		}
	}
}

package labels

import "testing"

// TestForeignPatientReference: with LocalServer set, a Patient named by an
// absolute reference to another server is not this server's Patient of that
// id: the resource's patient cannot be told (PatientConflict), whether the
// reference is its subject or on a compartment path; references to this
// server (any /_history) and relative ones name the patient as before, and
// without LocalServer every absolute reference does (QA round 19: another
// server's Patient/p1 was decided under this server's p1's consents).
func TestForeignPatientReference(t *testing.T) {
	local := func(base string) bool { return base == "https://ehr.example/fhir" }
	withLocal, err := NewLabeller(Options{Rules: DefaultRules(), LocalServer: local})
	if err != nil {
		t.Fatal(err)
	}
	without, err := NewLabeller(Options{Rules: DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	obs := func(subject string) []byte {
		return []byte(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"` + subject + `"}}`)
	}
	for _, c := range []struct {
		name     string
		res      []byte
		l        *Labeller
		patient  string
		conflict bool
	}{
		{"relative", obs("Patient/p1"), withLocal, "Patient/p1", false},
		{"this server", obs("https://ehr.example/fhir/Patient/p1"), withLocal, "Patient/p1", false},
		{"this server, a version", obs("https://ehr.example/fhir/Patient/p1/_history/2"), withLocal, "Patient/p1", false},
		{"another server", obs("https://other.example/fhir/Patient/p1"), withLocal, "", true},
		{"another server's path", obs("https://ehr.example/other/Patient/p1"), withLocal, "", true},
		{"another server, no LocalServer", obs("https://other.example/fhir/Patient/p1"), without, "Patient/p1", false},
		{"a Group member of another server", []byte(`{"resourceType":"Group","id":"g1","type":"person","actual":true,"member":[` +
			`{"entity":{"reference":"Patient/p2"}},{"entity":{"reference":"https://other.example/fhir/Patient/p3"}}]}`), withLocal, "", true},
		{"a Group of this server's members", []byte(`{"resourceType":"Group","id":"g1","type":"person","actual":true,"member":[` +
			`{"entity":{"reference":"Patient/p2"}},{"entity":{"reference":"https://ehr.example/fhir/Patient/p3"}}]}`), withLocal, "Patient/p2", false},
	} {
		r, err := c.l.Label(c.res)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.Patient != c.patient || r.PatientConflict != c.conflict || c.conflict && len(r.Patients) != 0 {
			t.Errorf("%s: patient %q patients %v conflict %v, want %q conflict %v", c.name, r.Patient, r.Patients, r.PatientConflict, c.patient, c.conflict)
		}
	}
}

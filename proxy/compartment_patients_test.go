package proxy

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Resources that name their patient elsewhere than subject, patient or
// beneficiary (the FHIR R4 Patient compartment: Appointment's
// participant.actor, Task.for, Group's member.entity ...). QA read another
// patient's Appointment, Task, ResearchSubject, Group and Schedule with a
// patient-context token, a deny-all consent did not cover them, and their
// disclosures were recorded with no patient.
var compartmentResources = map[string]string{
	"Appointment/a2":     `{"resourceType":"Appointment","id":"a2","status":"booked","description":"methadone clinic intake","participant":[{"actor":{"reference":"Practitioner/dr"},"status":"accepted"},{"actor":{"reference":"Patient/p2"},"status":"accepted"}]}`,
	"Appointment/a1":     `{"resourceType":"Appointment","id":"a1","status":"booked","participant":[{"actor":{"reference":"Practitioner/dr"},"status":"accepted"},{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`,
	"Appointment/a12":    `{"resourceType":"Appointment","id":"a12","status":"booked","participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Patient/p2"},"status":"accepted"}]}`,
	"Task/t2":            `{"resourceType":"Task","id":"t2","status":"ready","intent":"order","for":{"reference":"Patient/p2"}}`,
	"Task/t1":            `{"resourceType":"Task","id":"t1","status":"ready","intent":"order","for":{"reference":"Patient/p1"}}`,
	"ResearchSubject/r2": `{"resourceType":"ResearchSubject","id":"r2","status":"on-study","study":{"reference":"ResearchStudy/s"},"individual":{"reference":"Patient/p2"}}`,
	"Appointment/sud1":   `{"resourceType":"Appointment","id":"sud1","status":"booked","reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`,
	"Appointment/sud13":  `{"resourceType":"Appointment","id":"sud13","status":"booked","reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}],"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Patient/p3"},"status":"accepted"}]}`,
	"Schedule/s2":        `{"resourceType":"Schedule","id":"s2","actor":[{"reference":"Patient/p2"}]}`,
	"Group/g2":           `{"resourceType":"Group","id":"g2","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/p2"}}]}`,
	"Group/g13":          `{"resourceType":"Group","id":"g13","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/p1"}},{"entity":{"reference":"Patient/p3"}}]}`,
	"Group/g3":           `{"resourceType":"Group","id":"g3","type":"person","actual":true,"member":[{"entity":{"reference":"Patient/p3"}},{"entity":{"reference":"Patient/p4"}}]}`,
	"Basic/b2":           `{"resourceType":"Basic","id":"b2","code":{"text":"note"},"extension":[{"url":"http://example.org/about","valueReference":{"reference":"Patient/p2"}}]}`,
	"Practitioner/dr":    `{"resourceType":"Practitioner","id":"dr","name":[{"family":"Doctor"}]}`,
	"Medication/m":       `{"resourceType":"Medication","id":"m","code":{"text":"aspirin"}}`,
}

func compartmentUpstream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/fhir+json")
	if body, ok := compartmentResources[strings.TrimPrefix(r.URL.Path, "/fhir/R4/")]; ok {
		_, _ = w.Write([]byte(body))
		return
	}
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
}

// TestCompartmentByDefinition: a patient-context token reads none of
// another patient's resources that name the patient on a compartment path,
// nor one that names its patient beside another (a Group, an Appointment of
// two), nor a patient-less one that refers to another patient; its own
// and genuinely patient-less resources stay readable.
func TestCompartmentByDefinition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, compartmentUpstream, withScopeAuth)
	const tok = "p1|patient/*.rs"
	for path, want := range map[string]int{
		"Appointment/a2": 404, "Task/t2": 404, "ResearchSubject/r2": 404, "Schedule/s2": 404,
		"Group/g2": 404, "Group/g13": 404, "Appointment/a12": 404, "Basic/b2": 404,
		"Appointment/a1": 200, "Task/t1": 200, "Practitioner/dr": 200, "Medication/m": 200,
	} {
		resp, body := h.get("/fhir/"+path, tok)
		if resp.StatusCode != want || (want == 404 && strings.Contains(body, "Patient/p2")) {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, want, body)
		}
	}
}

// TestMultiPatientConsentsAndLedger: a patient's consent governs an
// Appointment that names the patient as a participant; one that names two
// patients is disclosed only when the consents of each permit it; and a
// Group's disclosure is recorded in the ledger entry of each member.
func TestMultiPatientConsentsAndLedger(t *testing.T) {
	t.Parallel()
	h := newHarness(t, compartmentUpstream)
	// Patient/p1's consent permits org-a (tokConsented) SUD data; Patient/p3
	// has none.
	for _, c := range []struct {
		path, tok string
		want      int
	}{
		{"Appointment/sud1", tokConsented, 200},
		{"Appointment/sud1", tokOther, 404},
		{"Appointment/sud13", tokConsented, 404},
		{"Appointment/sud13", tokOther, 404},
	} {
		if resp, body := h.get("/fhir/"+c.path, c.tok); resp.StatusCode != c.want {
			t.Errorf("%s by %s: %d, want %d: %s", c.path, c.tok, resp.StatusCode, c.want, body)
		}
	}
	h.ledger.mu.Lock()
	h.ledger.entries = nil
	h.ledger.mu.Unlock()
	if resp, body := h.get("/fhir/Group/g3", tokOther); resp.StatusCode != 200 {
		t.Fatalf("Group of patients without consents: %d %s", resp.StatusCode, body)
	}
	h.ledger.mu.Lock()
	defer h.ledger.mu.Unlock()
	var patients []string
	for _, e := range h.ledger.entries {
		if len(e.Disclosed) != 1 || e.Disclosed[0].Type != "Group" || e.Disclosed[0].ID != "g3" {
			t.Fatalf("entry of %q disclosed %+v", e.Patient, e.Disclosed)
		}
		patients = append(patients, e.Patient)
	}
	slices.Sort(patients)
	if !slices.Equal(patients, []string{"Patient/p3", "Patient/p4"}) {
		t.Fatalf("the Group's disclosure was recorded for %q, want each of its members", patients)
	}
}

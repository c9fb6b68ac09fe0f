package proxy

import (
	"context"
	"net/http"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// TestLedgerMarksAPatientsOwnAccess (QA17 F6): the ledger entry of a caller
// signed in as a patient says so (caller.patient_user), so that the SIEM
// export's patient_ids hash/omit covers the caller's subject, which
// identifies the patient; a clinician's entry does not.
func TestLedgerMarksAPatientsOwnAccess(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"Observation","id":"o-p1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"}}`))
	}, func(o *Options, d *Deps) { d.Auth, o.PublicBaseURL = userScopesAuth{}, "https://ds4p.example.org/fhir" })
	for _, tok := range []string{"Patient/p1|PATRQT", "Practitioner/dr1|TREAT"} {
		if resp, body := h.get("/fhir/Observation/o-p1", tok); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tok, resp.StatusCode, body)
		}
	}
	entries, err := h.ledger.Find(context.Background(), audit.Query{})
	if err != nil || len(entries) != 2 {
		t.Fatalf("ledger: %d entries, %v; want 2", len(entries), err)
	}
	marked := map[bool]int{}
	for _, e := range entries {
		marked[e.Caller.PatientUser]++
		if e.Caller.PatientUser != (len(e.Purposes) == 1 && e.Purposes[0] == "PATRQT") {
			t.Errorf("entry of %v: patient_user %v", e.Purposes, e.Caller.PatientUser)
		}
	}
	if marked[true] != 1 || marked[false] != 1 {
		t.Errorf("patient_user on %d entries, off on %d; want one each", marked[true], marked[false])
	}
}

package proxy

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
)

// patientContextAuth: a patient-facing app's token with a patient launch
// context and no fhirUser (SMART standalone launch without openid): its
// subject is the patient's own login at the identity provider.
type patientContextAuth struct{}

func (patientContextAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	if raw != "jane" {
		return authn.Caller{}, authn.ErrUnauthenticated
	}
	return authn.Caller{Subject: "jane.doe@mail.example", Client: "portal", Patient: "p1",
		Scopes: []string{"patient/*.rs"}, Purposes: []string{"PATRQT"}}, nil
}

// TestSIEMHashCoversAPatientContextTokensSubject (QA29 C): logs and security
// events leave out the subject of a patient-side token (logSubject), but its
// ledger entry said patient_user only when the fhirUser named a Patient, so
// the SIEM export under patient_ids hash sent a patient app's login (an
// e-mail) in plain beside the hashed patient id.
func TestSIEMHashCoversAPatientContextTokensSubject(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(http.StatusOK, `{"resourceType":"Observation","id":"o-p1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"}}`),
		func(o *Options, d *Deps) { d.Auth = patientContextAuth{} })
	if resp, body := h.get("/fhir/Observation/o-p1", "jane"); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	entries, err := h.ledger.Find(context.Background(), audit.Query{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("ledger: %d entries, %v", len(entries), err)
	}
	// siem's masker hashes caller.subject when patient_user is set
	// (siem TestHashCoversThePatientsOwnAccess).
	if !entries[0].Caller.PatientUser {
		t.Errorf("the entry of a patient-side token is not marked patient_user: the SIEM keeps subject %q in plain", entries[0].Caller.Subject)
	}
}

// TestBulkAlertRaisedWhenTheLedgerFails (QA29 C): the request that crosses
// a bulk threshold resets the caller's window when it is counted; when its
// ledger entry could not be written (500, nothing disclosed) its alert was
// dropped with it, so the pull before it went unreported and the caller
// was not blocked.
func TestBulkAlertRaisedWhenTheLedgerFails(t *testing.T) {
	store := openAlerts(t)
	ev := &recEvents{}
	h := newHarness(t, observationUpstream, withBulk(BulkRules{MaxPatients: 5, Block: true}, store, ev))
	eve := "eve|Organization/e|app-e|" + readScopes
	for i := 1; i <= 5; i++ {
		if resp, body := h.get(fmt.Sprintf("/fhir/Observation/o%d", i), eve); resp.StatusCode != 200 {
			t.Fatalf("read %d: %d %s", i, resp.StatusCode, body)
		}
	}
	h.ledger.mu.Lock()
	h.ledger.fail = true
	h.ledger.mu.Unlock()
	if resp, _ := h.get("/fhir/Observation/o6", eve); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("read 6 with the ledger failing: %d, want 500", resp.StatusCode)
	}
	h.ledger.mu.Lock()
	h.ledger.fail = false
	h.ledger.mu.Unlock()
	if k := ev.kinds(); k[siem.KindBulkAlert] != 1 || k[siem.KindCallerBlocked] != 1 {
		t.Fatalf("events = %v, want the crossing's alert and block", k)
	}
	if resp, _ := h.get("/fhir/Observation/o1", eve); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("after the crossing: %d, want 403 (blocked)", resp.StatusCode)
	}
}

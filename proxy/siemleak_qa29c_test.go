package proxy

import (
	"context"
	"net/http"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
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


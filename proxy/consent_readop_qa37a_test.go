package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestOwnOperationOnPatientKeepsCachesQA37A (QA round 37, area A, on
// bbdf692 and 8ed160d): with consents.patient_identifier_system set, a
// request on the Patient type is followed as a possible write of the
// Patients' identifiers, and following any write clears every upstream
// cache (clearUpstream): the consents read on demand, the actors, the
// identifiers and the Patients. bbdf692 kept any reader's POST
// Patient/p1/$summary from being followed as a write of every type, but
// with an identifier system it was still a Patient write: each one made
// every response re-read the upstream's consents, for all callers. The
// built-in operations that write only what they are about write no
// Patient's identifiers.
func TestOwnOperationOnPatientKeepsCachesQA37A(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
	u.fhir.set(200, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted: %d, want 200", code)
	}
	before := u.fhir.searches.Load()
	for _, path := range []string{"/fhir/Patient/p1/$summary", "/fhir/Patient/$summary"} {
		u.do(http.MethodPost, path, tokConsented, "application/fhir+json", `{"resourceType":"Parameters"}`)
		if code := u.read(tokConsented); code != http.StatusOK {
			t.Fatalf("after POST %s: %d, want 200", path, code)
		}
		if n := u.fhir.searches.Load(); n != before {
			t.Errorf("POST %s dropped the cached consents: %d consent searches, want %d", path, n, before)
			before = n
		}
	}
}

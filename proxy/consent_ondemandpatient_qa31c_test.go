package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestOnDemandPatientReadNotThePatientQA31C: on demand, with
// consents.patient_identifier_system set, the patient's consents naming it
// by an identifier of that system are found through the identifiers of the
// upstream's Patient (d80223a). A read of the Patient answering 200 with
// something else (an OperationOutcome, another Patient, a Bundle) was read
// as a Patient without identifiers: no such consent was searched, the
// opt-out the EHR wrote with the patient's MRN went unread, and org-a read
// the SUD condition under the patient's permit. Such an answer cannot say
// which identifiers the patient has: the response is withheld.
func TestOnDemandPatientReadNotThePatientQA31C(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	for name, body := range map[string]string{
		"an OperationOutcome": `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`,
		"another Patient":     `{"resourceType":"Patient","id":"p9"}`,
		"a Bundle":            `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"123"}]}}]}`,
		"no resourceType":     `{"id":"p1"}`,
	} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
		searchingFHIR(u)
		searching := u.upstream.Config.Handler
		u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/fhir/R4/Patient/p1" {
				fhirJSONHandler(http.StatusOK, body)(w, r)
				return
			}
			searching.ServeHTTP(w, r)
		})
		u.fhir.set(200, permit, mrnOptOut)
		if code := u.read(tokConsented); code == http.StatusOK {
			t.Errorf("the Patient read answering %s: org-a read the condition beside the patient's opt-out by MRN (200)", name)
		}
	}
}

package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestOnDemandDeletedPatientIdentifiersQA31F: with
// consents.patient_identifier_system, the patient's consents naming it by
// MRN alone are searched by the identifiers the upstream's Patient has. A
// deleted Patient (410), whose records remain and are served, was read as
// one the upstream does not know (404): no identifiers, the opt-out naming
// it by MRN went unread, and org-a read the SUD condition under the
// permit. Its last version (Patient/p1/_history) now tells them; a history
// that cannot tell withholds.
func TestOnDemandDeletedPatientIdentifiersQA31F(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	const history = `{"resourceType":"Bundle","type":"history","entry":[
	  {"request":{"method":"DELETE","url":"Patient/p1"},"response":{"status":"204"}},
	  {"resource":{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"identifier":[{"system":"urn:mrn","value":"123"}]},"request":{"method":"PUT","url":"Patient/p1"}},
	  {"resource":{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"}},"request":{"method":"POST","url":"Patient"}}]}`
	tests := []struct {
		name            string
		patientStatus   int
		historyStatus   int
		history         string
		wantWithheld    bool
		wantHistoryRead bool
	}{
		{"deleted, its last version has the MRN", http.StatusGone, http.StatusOK, history, true, true},
		{"deleted, the history cannot be read", http.StatusGone, http.StatusInternalServerError, `{}`, true, true},
		{"deleted, the history holds no version", http.StatusGone, http.StatusOK,
			`{"resourceType":"Bundle","type":"history","entry":[{"request":{"method":"DELETE","url":"Patient/p1"}}]}`, true, true},
		{"deleted, the history answers a searchset", http.StatusGone, http.StatusOK,
			`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}`, true, true},
		{"unknown to the upstream: no identifiers", http.StatusNotFound, http.StatusOK, history, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
			searchingFHIR(u)
			searching := u.upstream.Config.Handler
			historyRead := make(chan struct{}, 8)
			u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/fhir/R4/Patient/p1":
					fhirJSONHandler(tt.patientStatus, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"deleted"}]}`)(w, r)
				case "/fhir/R4/Patient/p1/_history":
					historyRead <- struct{}{}
					fhirJSONHandler(tt.historyStatus, tt.history)(w, r)
				default:
					searching.ServeHTTP(w, r)
				}
			})
			u.fhir.set(http.StatusOK, permit, mrnOptOut)
			code := u.read(tokConsented)
			if withheld := code != http.StatusOK; withheld != tt.wantWithheld {
				t.Errorf("org-a read the SUD condition: %d, want withheld %v", code, tt.wantWithheld)
			}
			if read := len(historyRead) > 0; read != tt.wantHistoryRead {
				t.Errorf("the patient's history read: %v, want %v", read, tt.wantHistoryRead)
			}
		})
	}
}

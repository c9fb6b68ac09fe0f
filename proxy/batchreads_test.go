package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatchOfReadsKeepsCaches: a batch whose entries only read (GET, HEAD)
// writes nothing, yet it was followed as a write: each one dropped every
// upstream cache (the Patient each identifier resolves to, the actors, the
// consents read on demand) and forced a full sync round, so any caller
// allowed a batch could keep the proxy asking the upstream again for every
// response (round 32's note, QA round 33 area A's proposal). A batch with
// a write in it still drops them.
func TestBatchOfReadsKeepsCaches(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		entries   string
		wantClear bool
	}{
		{"GET entries only", `{"request":{"method":"GET","url":"Condition/sudm"}},{"request":{"method":"GET","url":"Patient/p1"}}`, false},
		{"a PUT of a Patient among GETs", `{"request":{"method":"GET","url":"Condition/sudm"}},
		  {"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"777"}]},"request":{"method":"PUT","url":"Patient/p1"}}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOff, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
			searchingFHIR(u)
			byMRN := strings.Replace(sudCondition, `"subject":{"reference":"Patient/p1"}`, `"subject":{"identifier":{"system":"urn:mrn","value":"777"}}`, 1)
			byMRN = strings.Replace(byMRN, `"id":"sud1"`, `"id":"sudm"`, 1)
			var lookups atomic.Int64
			inner := u.upstream.Config.Handler
			u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/fhir/R4/Condition/sudm":
					fhirJSONHandler(http.StatusOK, byMRN)(w, r)
				case r.URL.Path == "/fhir/R4" || r.URL.Path == "/fhir/R4/":
					fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"batch-response","entry":[]}`)(w, r)
				case r.URL.Path == "/fhir/R4/Patient" && r.URL.Query().Get("identifier") == "urn:mrn|777":
					lookups.Add(1)
					fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"777"}]},"search":{"mode":"match"}}]}`)(w, r)
				default:
					inner.ServeHTTP(w, r)
				}
			})
			local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
			if resp, body := u.do(http.MethodPut, "/admin/Consent/c1", tokAdmin, "application/fhir+json", local); resp.StatusCode != http.StatusCreated {
				t.Fatalf("storing p1's permit: %d %s", resp.StatusCode, body)
			}
			if resp, body := u.get("/fhir/Condition/sudm", tokConsented); resp.StatusCode != http.StatusOK {
				t.Fatalf("org-a under p1's permit: %d %s", resp.StatusCode, body)
			}
			before := lookups.Load()
			if before == 0 {
				t.Fatal("the MRN was not looked up")
			}
			batch := `{"resourceType":"Bundle","type":"batch","entry":[` + tt.entries + `]}`
			if resp, body := u.do(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batch); resp.StatusCode != http.StatusOK {
				t.Fatalf("the batch: %d %s", resp.StatusCode, body)
			}
			if resp, body := u.get("/fhir/Condition/sudm", tokConsented); resp.StatusCode != http.StatusOK {
				t.Fatalf("org-a again: %d %s", resp.StatusCode, body)
			}
			if cleared := lookups.Load() != before; cleared != tt.wantClear {
				t.Errorf("the cached Patient of MRN 777 dropped: %v, want %v", cleared, tt.wantClear)
			}
		})
	}
}

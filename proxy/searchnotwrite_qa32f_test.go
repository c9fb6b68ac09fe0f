package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPatientSearchByPostKeepsCachesQA32F: a search by POST
// (Patient/_search, which SMART apps use to keep an MRN out of the URL)
// writes nothing, yet since 8cac69f and a77eeb7 each one dropped every
// upstream cache (the patients each identifier resolves to, the actors,
// the consents read on demand) and made every response under way read
// them afresh: any caller allowed to search could keep the proxy asking
// the upstream again for every response (QA round 32, area F). A search
// is no write: the Patient an MRN resolves to stays cached.
func TestPatientSearchByPostKeepsCachesQA32F(t *testing.T) {
	t.Parallel()
	cfg := ConsentSources{Upstream: UpstreamOff, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"}
	u := newUpstreamSetup(t, cfg)
	searchingFHIR(u)
	byMRN := strings.Replace(sudCondition, `"subject":{"reference":"Patient/p1"}`, `"subject":{"identifier":{"system":"urn:mrn","value":"777"}}`, 1)
	byMRN = strings.Replace(byMRN, `"id":"sud1"`, `"id":"sudm"`, 1)
	var lookups atomic.Int64
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/fhir/R4/Condition/sudm":
			fhirJSONHandler(http.StatusOK, byMRN)(w, r)
		case r.URL.Path == "/fhir/R4/Patient/_search":
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
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
	resp, body := u.do(http.MethodPost, "/fhir/Patient/_search", tokConsented, "application/x-www-form-urlencoded", "identifier=urn%3Amrn%7C777")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST Patient/_search: %d %s", resp.StatusCode, body)
	}
	if resp, body := u.get("/fhir/Condition/sudm", tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("org-a again: %d %s", resp.StatusCode, body)
	}
	if n := lookups.Load(); n != before {
		t.Errorf("a search by POST dropped the cached Patient of MRN 777: %d lookups after it, %d before", n, before)
	}
}

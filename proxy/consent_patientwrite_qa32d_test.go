package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRecordNamedByMRNAfterPatientWriteQA32D: a record naming its patient
// by an MRN alone is the record of the one Patient that has the MRN
// (resolvePatient), the answer cached for upstream_ttl. The clinic moved
// MRN 777 from Patient p1 (whose permit lets org-a read) to the person it
// belongs to, p5 (no consent), by a PUT through ds4p's /fhir; the record
// still read as p1's and org-a read its SUD condition under p1's permit.
// 8cac69f follows a Patient write with the upstream's consents read (on
// demand, sync); with ds4p's own consents alone (consents.upstream off)
// the MRN is resolved and cached as well, and the write was not followed.
func TestRecordNamedByMRNAfterPatientWriteQA32D(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{UpstreamOff, UpstreamOnDemand} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			recordNamedByMRNAfterPatientWrite(t, mode)
		})
	}
}

func recordNamedByMRNAfterPatientWrite(t *testing.T, mode string) {
	const tokWriter = "Organization/org-a|TREAT|user/*.*"
	cfg := ConsentSources{Upstream: mode, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"}
	u := newUpstreamSetup(t, cfg)
	searchingFHIR(u)
	byMRN := strings.Replace(sudCondition, `"subject":{"reference":"Patient/p1"}`, `"subject":{"identifier":{"system":"urn:mrn","value":"777"}}`, 1)
	if byMRN == sudCondition {
		t.Fatal("sudCondition names its patient otherwise")
	}
	byMRN = strings.Replace(byMRN, `"id":"sud1"`, `"id":"sudm"`, 1)
	var moved atomic.Bool
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/fhir/R4/Condition/sudm":
			fhirJSONHandler(http.StatusOK, byMRN)(w, r)
		case r.URL.Path == "/fhir/R4/Patient/p1" && r.Method == http.MethodPut:
			moved.Store(true)
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p1"}`)(w, r)
		case r.URL.Path == "/fhir/R4/Patient/p5":
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p5","identifier":[{"system":"urn:mrn","value":"777"}]}`)(w, r)
		case r.URL.Path == "/fhir/R4/Patient" && r.URL.Query().Get("identifier") == "urn:mrn|777":
			id := "p1"
			if moved.Load() {
				id = "p5"
			}
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"`+id+`","identifier":[{"system":"urn:mrn","value":"777"}]},"search":{"mode":"match"}}]}`)(w, r)
		default:
			inner.ServeHTTP(w, r)
		}
	})
	if mode == UpstreamOff {
		local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
		if resp, body := u.do(http.MethodPut, "/admin/Consent/c1", tokAdmin, "application/fhir+json", local); resp.StatusCode != http.StatusCreated {
			t.Fatalf("storing p1's permit: %d %s", resp.StatusCode, body)
		}
	} else {
		u.fhir.set(http.StatusOK, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	}
	if resp, body := u.get("/fhir/Condition/sudm", tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("while MRN 777 is p1's, org-a under p1's permit: %d %s", resp.StatusCode, body)
	}
	resp, body := u.do(http.MethodPut, "/fhir/Patient/p1", tokWriter, "application/fhir+json", `{"resourceType":"Patient","id":"p1"}`)
	if resp.StatusCode != http.StatusOK || !moved.Load() {
		t.Fatalf("the PUT of Patient p1 without the MRN: %d %s", resp.StatusCode, strings.TrimSpace(body))
	}
	if resp, body := u.get("/fhir/Condition/sudm", tokConsented); resp.StatusCode != http.StatusNotFound {
		t.Errorf("after ds4p answered the write that took MRN 777 from p1, org-a read the record naming 777: %d %s, want 404 (p5's, no consent)", resp.StatusCode, body)
	}
}

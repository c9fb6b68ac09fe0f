package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOptOutUnderAnotherScopeQA31B: an upstream consent whose scope is
// research, treatment or adr but whose policyRule is an opt-out (v3-ActCode
// OPTOUT, a privacy consent directive by its definition) was left out since
// 8a16f10, as if the patient had not opted out. It is now read as a denial
// of what it says at least: under research, of research purposes (the
// patient's ordinary records too), a treating caller still served; under
// treatment or adr (a mis-coded privacy opt-out), of everything. Without an
// opt-out code such a consent is still left out, and an inactive one
// denies nothing (QA round 31, area B).
func TestOptOutUnderAnotherScopeQA31B(t *testing.T) {
	t.Parallel()
	// The permit gives org-a the SUD condition for treatment and research.
	permit := strings.Replace(upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"),
		`"code":"TREAT"}`, `"code":"TREAT"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HRESCH"}`, 1)
	const other = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1"},"status":"STATUS",
	  "scope":{"coding":[SCOPE]},
	  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"POLICY"}]}}`
	const cs = "http://terminology.hl7.org/CodeSystem/consentscope"
	const research = "Organization/org-a|HRESCH|user/*.read"
	for _, tt := range []struct {
		name, scope, policy, status string
		treat, researcher           int // reading the SUD Condition/sud1
	}{
		{"research opt-out", `{"system":"` + cs + `","code":"research"}`, "OPTOUT", "active", http.StatusOK, http.StatusNotFound},
		{"research opt-out with exceptions", `{"system":"` + cs + `","code":"research"}`, "OPTOUTE", "active", http.StatusOK, http.StatusNotFound},
		{"treatment opt-out", `{"system":"` + cs + `","code":"treatment"}`, "OPTOUT", "active", http.StatusNotFound, http.StatusNotFound},
		{"adr opt-out, STU3 system", `{"system":"http://hl7.org/fhir/consentscope","code":"adr"}`, "OPTOUT", "active", http.StatusNotFound, http.StatusNotFound},
		{"research beside treatment", `{"system":"` + cs + `","code":"research"},{"system":"` + cs + `","code":"treatment"}`, "OPTOUT", "active", http.StatusNotFound, http.StatusNotFound},
		{"research opt-in", `{"system":"` + cs + `","code":"research"}`, "OPTIN", "active", http.StatusOK, http.StatusOK},
		{"revoked research opt-out", `{"system":"` + cs + `","code":"research"}`, "OPTOUT", "inactive", http.StatusOK, http.StatusOK},
	} {
		for _, mode := range []string{UpstreamSync, UpstreamOnDemand} {
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, SyncInterval: time.Hour, TTL: time.Hour})
			c := strings.NewReplacer("SCOPE", tt.scope, "POLICY", tt.policy, "STATUS", tt.status).Replace(other)
			u.fhir.set(200, permit, c)
			if mode == UpstreamSync {
				syncQA30B(t, u, true)
			}
			read := func(tok string) int {
				resp, _ := u.get("/fhir/Condition/sud1", tok)
				return resp.StatusCode
			}
			if code := read(tokConsented); code != tt.treat {
				t.Errorf("%s, %s: a treating caller read the SUD condition: %d, want %d", tt.name, mode, code, tt.treat)
			}
			if code := read(research); code != tt.researcher {
				t.Errorf("%s, %s: a researcher read the SUD condition: %d, want %d", tt.name, mode, code, tt.researcher)
			}
		}
	}
}

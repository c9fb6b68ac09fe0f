package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestConsoleJudgesFHIRUserAsEdge: `ds4p serve` hands the console the
// edge's judgement of a patient's token (proxy.Server.PatientSide), so an
// auditor whose SMART fhirUser is an absolute URL below the upstream's
// alias, launched in a patient's context, signs in as /admin would take
// them, while a Practitioner of another server in the same context is the
// patient's token, refused. Before, the console judged by public_base_url
// alone and refused the first (it did not know the upstream's bases).
func TestConsoleJudgesFHIRUserAsEdge(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.Upstream = "http://127.0.0.1:9/fhir" // never reached
	cfg.UpstreamAliases = []string{"https://ehr.example.org/fhir"}
	cfg.DataDir = t.TempDir()
	cfg.Auth.Dev = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := openStack(t.Context(), cfg, newLogger(io.Discard, "error"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv := httptest.NewServer(st.server.Handler())
	t.Cleanup(srv.Close)
	for fhirUser, want := range map[string]int{
		"https://ehr.example.org/fhir/Practitioner/dr":     http.StatusOK,
		"HTTPS://EHR.example.org:443/fhir/Practitioner/dr": http.StatusOK,
		"https://other.example/fhir/Practitioner/dr":       http.StatusForbidden,
	} {
		tok, err := authn.MintDev(cfg.DataDir, authn.DevClaims{Subject: "dr", Org: "Organization/o", Client: "c",
			Scopes: []string{"ds4p/auditor"}, Patient: "p1", FHIRUser: fhirUser})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/console/api/login", strings.NewReader(`{"token":"`+tok+`"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("fhirUser %s in a patient's context: sign-in %d %s, want %d", fhirUser, res.StatusCode, body, want)
		}
	}
}

package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/servetest"
)

func init() {
	register("ConsentFromUpstream", testConsentFromUpstream)
}

// upstreamConsentID is the Consent the scenario keeps in Medplum; it is
// deleted again at the end, so that no other scenario sees it.
const upstreamConsentID = "e2e-upstream-consent"

// upstreamConsentBody is a Part 2 consent of regrantPatient held by the FHIR
// server: deny all, permit regrantOrg for treatment.
func upstreamConsentBody(status string) string {
	return strings.Replace(regrantBody(status), `"id":"`+regrantConsent+`"`, `"id":"`+upstreamConsentID+`"`, 1)
}

// consentServer is a second `ds4p serve`, with its own (empty) data
// directory, reading consents from the upstream on demand.
type consentServer struct {
	base, data string
}

func startConsentServer(t *testing.T, e *env, env ...string) *consentServer {
	t.Helper()
	cs := &consentServer{data: t.TempDir()}
	config, err := e.writeLabelConfig()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.bin, "serve", "--config", config, "--upstream", e.upstream.BaseURL,
		"--data", cs.data, "--dev-auth", "--log-level", "warn")
	// A TTL of 1ns: every request reads the upstream's consents afresh, so
	// the scenario sees each upstream change on the next request.
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true", "DS4P_CONSENTS_UPSTREAM=on_demand", "DS4P_CONSENTS_UPSTREAM_TTL=1ns")
	cmd.Env = append(cmd.Env, env...)
	stderr, _ := cmd.StderrPipe()
	go drain(stderr)
	p, err := servetest.Start(cmd, 20*time.Second, nil)
	if err != nil {
		t.Fatalf("the consent server: %v", err)
	}
	t.Cleanup(func() { p.Stop(5 * time.Second) })
	cs.base = p.Base
	return cs
}

// testConsentFromUpstream runs a proxy with consents.upstream: on_demand. A
// Consent stored in the FHIR server itself (not in ds4p) grants, and its
// revocation there withdraws, what the same caller sees on the next
// request; a revocation recorded in ds4p wins over the upstream's active
// copy of the same consent.
func testConsentFromUpstream(t *testing.T, e *env) {
	cs := startConsentServer(t, e)
	tok := func(args ...string) string {
		out, err := exec.Command(e.bin, append([]string{"token", "--data", cs.data}, args...)...).Output()
		if err != nil {
			t.Fatalf("ds4p token: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	caller := tok("--sub", "dr-upstream", "--org", regrantOrg, "--purpose", "TREAT", "--scope", "user/*.read")
	admin := tok("--sub", "cm", "--org", "Organization/ops", "--scope", "ds4p/consent-manager")
	t.Cleanup(func() { deleteUpstream(t, e, "Consent/"+upstreamConsentID) })
	read := func() int {
		r := e.do(t, http.MethodGet, cs.base+"/fhir/"+regrantRecord, caller, nil)
		if r.Status != http.StatusOK && r.Status != http.StatusNotFound {
			t.Fatalf("read %s: %d %s", regrantRecord, r.Status, r.Body)
		}
		return r.Status
	}
	steps := []struct {
		name   string
		change func()
		want   int
	}{
		{"no consent anywhere", func() {}, http.StatusNotFound},
		{"granted in the FHIR server", func() { e.upstream.Put(t, []byte(upstreamConsentBody("active"))) }, http.StatusOK},
		{"revoked in the FHIR server", func() { e.upstream.Put(t, []byte(upstreamConsentBody("inactive"))) }, http.StatusNotFound},
		{"re-granted in the FHIR server", func() { e.upstream.Put(t, []byte(upstreamConsentBody("active"))) }, http.StatusOK},
		{"revoked in ds4p, still active upstream", func() {
			for _, req := range []struct{ method, path, body string }{
				{http.MethodPut, "/admin/Consent/" + upstreamConsentID, upstreamConsentBody("active")},
				{http.MethodPost, "/admin/Consent/" + upstreamConsentID + "/$revoke", ""},
			} {
				r := e.do(t, req.method, cs.base+req.path, admin, strings.NewReader(req.body), "Content-Type", "application/fhir+json")
				if r.Status != http.StatusOK && r.Status != http.StatusCreated {
					t.Fatalf("%s %s: %d %s", req.method, req.path, r.Status, r.Body)
				}
			}
		}, http.StatusNotFound},
	}
	for _, st := range steps {
		st.change()
		if got := read(); got != st.want {
			t.Fatalf("%s: read %d, want %d", st.name, got, st.want)
		}
	}
}

// deleteUpstream deletes a resource from the FHIR server directly.
func deleteUpstream(t *testing.T, e *env, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, e.upstream.BaseURL+"/"+ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("deleting %s from the FHIR server: %v", ref, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Errorf("deleting %s from the FHIR server: %s", ref, resp.Status)
	}
}

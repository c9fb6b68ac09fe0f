package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

type degraded struct{ error }

func (degraded) Degraded() bool { return true }

type passing struct{ error }

func (passing) Passing() bool { return true }

// TestReadyzWarnsOnDegradedCheck: a check that fails but says Degraded (a
// rejected policy change while the last good one serves) keeps the proxy
// ready with status warn; a plain failure makes it unready.
func TestReadyzWarnsOnDegradedCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		err     error
		code    int
		overall string
		check   string
	}{
		{"passing", nil, http.StatusOK, "pass", "pass"},
		{"degraded", degraded{errors.New("revision r2 was rejected and r1 keeps serving")}, http.StatusOK, "warn", "warn"},
		{"wrapped degraded", fmtWrap(degraded{errors.New("rejected")}), http.StatusOK, "warn", "warn"},
		{"failing", errors.New("store closed"), http.StatusServiceUnavailable, "fail", "fail"},
		{"passing with detail", passing{errors.New("label rules revision abc")}, http.StatusOK, "pass", "pass"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"CapabilityStatement"}`), func(o *Options, d *Deps) {
				d.Checks = map[string]func(context.Context) error{"x": func(context.Context) error { return tt.err }}
			})
			resp, body := h.get("/readyz", "")
			var r struct {
				Status string
				Checks map[string]struct{ Status, Detail string }
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.code || r.Status != tt.overall || r.Checks["x"].Status != tt.check {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if tt.err != nil && r.Checks["x"].Detail == "" {
				t.Fatalf("no detail: %s", body)
			}
		})
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

// TestMethodNotAllowed: a method an admin endpoint does not take is 405
// with an Allow header and an OperationOutcome, not a 404 that reads as
// "no such consent"; an unknown path is still 404; FHIR takes every method.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for _, m := range []string{http.MethodDelete, http.MethodPatch} {
		resp, body := h.send(m, "/admin/Consent/c1", tokAdmin, "application/fhir+json", "{}")
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(body, "OperationOutcome") ||
			!strings.Contains(resp.Header.Get("Allow"), "GET") || !strings.Contains(resp.Header.Get("Allow"), "PUT") {
			t.Errorf("%s /admin/Consent/c1: %d Allow=%q %s", m, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	if resp, _ := h.send(http.MethodDelete, "/admin/nothing-here", tokAdmin, "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown admin path: %d", resp.StatusCode)
	}
	if resp, _ := h.get("/fhir/Observation/bp1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Errorf("FHIR read: %d", resp.StatusCode)
	}
}

// TestBaseURLsRefuseWhatABaseCannotCarry: an upstream or public base with a
// query, a fragment or credentials is refused at startup (QA: a query made
// the proxy leave the upstream's fullUrls unrewritten and drop paging).
func TestBaseURLsRefuseWhatABaseCannotCarry(t *testing.T) {
	t.Parallel()
	ok := func(raw string) Options {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return Options{Upstream: u}
	}
	for _, raw := range []string{"http://ehr/fhir/R4?x=1", "http://ehr/fhir/R4#frag", "http://user:pw@ehr/fhir/R4", "http://ehr/fhir?"} {
		if err := ok(raw).Validate(); err == nil || !strings.Contains(err.Error(), "upstream:") {
			t.Errorf("upstream %s: %v", raw, err)
		}
	}
	for _, pub := range []string{"ftp://proxy.example/fhir", "https://proxy.example/fhir?x=1", "https://proxy.example/fhir#f", "https://u:p@proxy.example/fhir", "/fhir"} {
		o := ok("https://ehr/fhir/R4")
		o.PublicBaseURL = pub
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "public_base_url:") {
			t.Errorf("public_base_url %s: %v", pub, err)
		}
	}
	bad := ok("https://ehr/fhir/R4")
	bad.PassthroughContentTypes = []string{"not a type", "image/png"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), `"not a type" is not a media type`) || strings.Count(err.Error(), "passthrough_content_types:") != 1 {
		t.Errorf("passthrough types: %v", err)
	}
	good := ok("https://ehr.example:8443/fhir/R4")
	good.PublicBaseURL = "https://proxy.example/fhir"
	if err := good.Validate(); err != nil {
		t.Errorf("good bases refused: %v", err)
	}
}

type keysDownAuth struct{}

func (keysDownAuth) Verify(context.Context, string) (authn.Caller, error) {
	return authn.Caller{}, fmt.Errorf("%w: JWKS down", authn.ErrKeysUnavailable)
}

// TestKeysUnavailableIs503: a token that cannot be checked because the
// issuer's keys are unavailable is a 503 to retry, not a 401 that blames
// the token.
func TestKeysUnavailableIs503(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Auth = keysDownAuth{} })
	resp, body := h.get("/fhir/Observation/bp1", "any")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"transient"`) ||
		resp.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	if h.forwarded() {
		t.Fatal("the request reached the upstream")
	}
}

// TestInvalidUpstreamConsentLoggedOnceWithPaths: an upstream consent that
// fails validation is logged with the element paths at fault (no values)
// once, not at every sync round.
func TestInvalidUpstreamConsentLoggedOnceWithPaths(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	m := &sourcedConsents{s: &Server{log: slog.New(slog.NewJSONHandler(logs, nil))}}
	raw := []byte(`{"resourceType":"Consent","id":"u1","status":"actve","patient":{"reference":"Patient/p1"},"provision":{"type":"deny"}}`)
	for range 3 {
		m.readUpstream(raw)
	}
	out := logs.String()
	if n := strings.Count(out, "failed validation"); n != 1 || !strings.Contains(out, `"paths":["Consent.status"]`) || strings.Contains(out, "actve") {
		t.Fatalf("%d lines:\n%s", n, out)
	}
}

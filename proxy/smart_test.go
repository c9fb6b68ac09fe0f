package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const smartDoc = `{
  "authorization_endpoint": "https://idp.example.org/authorize",
  "token_endpoint": "https://idp.example.org/token",
  "revocation_endpoint": "https://idp.example.org/revoke",
  "grant_types_supported": ["authorization_code", "client_credentials"],
  "capabilities": ["launch-standalone", "client-confidential-asymmetric", "permission-v2"],
  "code_challenge_methods_supported": ["S256"],
  "scopes_supported": ["openid", "patient/*.rs"]
}`

// An app finds the proxy's authorization server without a token, and the
// CapabilityStatement names the same endpoints, not the upstream's.
func TestSMARTDiscovery(t *testing.T) {
	t.Parallel()
	doc, err := SMARTDocument([]byte(smartDoc), "https://idp.example.org", "https://idp.example.org/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "well-known") {
			t.Errorf("discovery went upstream: %s", r.URL.Path)
		}
		cs := strings.Replace(upstreamCapabilities(h.base()), `"rest":[{`,
			`"rest":[{"security":{"service":[{"coding":[{"code":"SMART-on-FHIR"}]}],"extension":[{"url":"`+oauthURIs+
				`","extension":[{"url":"token","valueUri":"https://upstream-idp.internal/token"}]}]},`, 1)
		fhirJSONHandler(200, cs)(w, r)
	}, func(o *Options, _ *Deps) { o.SMARTConfiguration = doc })

	resp, body := h.get("/fhir/.well-known/smart-configuration", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("discovery: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got["token_endpoint"] != "https://idp.example.org/token" || got["issuer"] != "https://idp.example.org" ||
		got["jwks_uri"] != "https://idp.example.org/jwks" {
		t.Errorf("discovery document: %s", body)
	}
	resp, body = h.do(http.MethodHead, "/fhir/.well-known/smart-configuration", "", "", "")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != int64(len(doc)) {
		t.Errorf("HEAD: %d %d %q", resp.StatusCode, resp.ContentLength, body)
	}
	resp, body = h.do(http.MethodPost, "/fhir/.well-known/smart-configuration", "", "application/json", "{}")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" || !strings.Contains(body, "OperationOutcome") {
		t.Errorf("POST: %d %s", resp.StatusCode, body)
	}
	// A browser app on another origin reads it (CORS), preflight too.
	resp, _ = h.get("/fhir/.well-known/smart-configuration", "", "Origin", "https://app.example.com")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET from another origin: Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	resp, _ = h.do(http.MethodOptions, "/fhir/.well-known/smart-configuration", "", "", "", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	// Only that exact path is open: its neighbours still need a token.
	for _, p := range []string{"/fhir/.well-known/openid-configuration", "/fhir/.well-known/smart-configuration/x", "/fhir/metadata"} {
		if resp, _ := h.get(p, ""); resp.StatusCode != 401 {
			t.Errorf("%s without a token: %d", p, resp.StatusCode)
		}
	}

	resp, body = h.get("/fhir/metadata", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("metadata: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "upstream-idp.internal") {
		t.Errorf("the upstream's authorization server is named: %s", body)
	}
	for _, want := range []string{`"valueUri":"https://idp.example.org/authorize"`, `"valueUri":"https://idp.example.org/token"`,
		`"url":"revoke"`, `"code":"SMART-on-FHIR"`} {
		if !strings.Contains(body, want) {
			t.Errorf("metadata lacks %s: %s", want, body)
		}
	}
}

// Without a configured document the path says so, and the upstream's
// security statement is passed on unchanged.
func TestSMARTDiscoveryNotConfigured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{}`))
	resp, body := h.get("/fhir/.well-known/smart-configuration", "")
	if resp.StatusCode != 404 || !strings.Contains(body, "auth.smart_configuration") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

func TestSMARTDocumentRefuses(t *testing.T) {
	t.Parallel()
	edit := func(from, to string) string { return strings.Replace(smartDoc, from, to, 1) }
	for _, c := range []struct{ doc, issuer, want string }{
		{`[]`, "", "one JSON object"},
		{`{} {}`, "", "one JSON object"},
		{edit(`"token_endpoint": "https://idp.example.org/token",`, ""), "", "token_endpoint is required"},
		{edit(`"https://idp.example.org/token"`, `"http://idp.example.org/token"`), "", "not https"},
		{edit(`"https://idp.example.org/token"`, `"https://u:p@idp.example.org/token"`), "", "credentials"},
		{edit(`"authorization_endpoint": "https://idp.example.org/authorize",`, ""), "", "authorization_endpoint is required"},
		{edit(`["S256"]`, `["S256", "plain"]`), "", "plain"},
		{edit(`["S256"]`, `["RS256"]`), "", "must include S256"},
		{edit(`"capabilities": [`, `"capabilities": [1, `), "", "only non-empty strings"},
		{edit(`{`, `{"issuer": "https://other.example.org",`), "https://idp.example.org", "auth.issuer"},
		{edit(`"permission-v2"`, `"permission-v2", "sso-openid-connect"`), "", "issuer is required with sso-openid-connect"},
		{edit(`{`, `{"jwks_uri": "http://idp.example.org/jwks",`), "", "jwks_uri"},
	} {
		if _, err := SMARTDocument([]byte(c.doc), c.issuer, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.doc, err, c.want)
		}
	}
	// http on a loopback host is taken, for development.
	if _, err := SMARTDocument([]byte(strings.ReplaceAll(smartDoc, "https://idp.example.org", "http://127.0.0.1:9000")), "", ""); err != nil {
		t.Error(err)
	}
	if err := (Options{SMARTConfiguration: []byte(`{"token_endpoint":1}`)}).Validate(); err == nil || !strings.Contains(err.Error(), "auth.smart_configuration") {
		t.Errorf("Options.Validate: %v", err)
	}
}

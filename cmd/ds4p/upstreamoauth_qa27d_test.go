package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestUpstreamAuthConfig: the upstream_auth section (and its DS4P_
// variables) configures ds4p's OAuth client to the upstream; what cannot
// work is refused at start with what to fix, never quoting a secret: both
// or neither of a key and a secret, a key without key_id, a token URL in
// plain http to another host or with a password, a key file that is none,
// and upstream_auth beside upstream_token_file. Plain http to the upstream
// is warned of, as the token would cross it.
func TestUpstreamAuthConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile, secretFile, tokenFile, junk := filepath.Join(dir, "key.pem"), filepath.Join(dir, "secret"), filepath.Join(dir, "token"), filepath.Join(dir, "junk")
	for p, b := range map[string][]byte{
		keyFile: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), secretFile: []byte("SECRETVALUE\n"),
		tokenFile: []byte("tok\n"), junk: []byte("SECRETVALUE is no key"),
	} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yamlFile := filepath.Join(dir, "ds4p.yaml")
	if err := os.WriteFile(yamlFile, []byte(`upstream: https://ehr.example/fhir
upstream_auth:
  token_url: https://ehr.example/oauth2/token
  client_id: ds4p-backend
  scope: system/*.rs
  private_key_file: `+keyFile+`
  key_id: key-2026
`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--dev-auth", "--data", t.TempDir()}
	c, err := loadConfig(append(base, "--config", yamlFile), nil)
	want := UpstreamAuthConfig{TokenURL: "https://ehr.example/oauth2/token", ClientID: "ds4p-backend", Scope: "system/*.rs", PrivateKeyFile: keyFile, KeyID: "key-2026"}
	if err != nil || c.UpstreamAuth != want {
		t.Fatalf("from the file: %+v, %v", c.UpstreamAuth, err)
	}
	env := []string{"DS4P_UPSTREAM=https://ehr.example/fhir", "DS4P_UPSTREAM_AUTH_TOKEN_URL=https://ehr.example/token2",
		"DS4P_UPSTREAM_AUTH_CLIENT_ID=gw", "DS4P_UPSTREAM_AUTH_SCOPE=system/Patient.rs", "DS4P_UPSTREAM_AUTH_CLIENT_SECRET_FILE=" + secretFile}
	c, err = loadConfig(base, env)
	want = UpstreamAuthConfig{TokenURL: "https://ehr.example/token2", ClientID: "gw", Scope: "system/Patient.rs", ClientSecretFile: secretFile}
	if err != nil || c.UpstreamAuth != want {
		t.Fatalf("from the environment: %+v, %v", c.UpstreamAuth, err)
	}
	up := "DS4P_UPSTREAM=https://ehr.example/fhir"
	for name, c := range map[string]struct {
		env  []string
		want string
	}{
		"plain http":  {[]string{up, "DS4P_UPSTREAM_AUTH_TOKEN_URL=http://ehr.example/token", "DS4P_UPSTREAM_AUTH_CLIENT_ID=gw", "DS4P_UPSTREAM_AUTH_CLIENT_SECRET_FILE=" + secretFile}, "plain http"},
		"password":    {[]string{up, "DS4P_UPSTREAM_AUTH_TOKEN_URL=https://u:SECRETVALUE@ehr.example/token", "DS4P_UPSTREAM_AUTH_CLIENT_ID=gw", "DS4P_UPSTREAM_AUTH_CLIENT_SECRET_FILE=" + secretFile}, "user name"},
		"no client":   {[]string{up, "DS4P_UPSTREAM_AUTH_TOKEN_URL=https://ehr.example/token", "DS4P_UPSTREAM_AUTH_CLIENT_SECRET_FILE=" + secretFile}, "client_id"},
		"missing url": {[]string{up, "DS4P_UPSTREAM_AUTH_CLIENT_ID=gw", "DS4P_UPSTREAM_AUTH_CLIENT_SECRET_FILE=" + secretFile}, "token_url: required"},
		"token file":  {append(slices.Clone(env), "DS4P_UPSTREAM_TOKEN_FILE="+tokenFile), "upstream_auth and upstream_token_file"},
		"both":        {append(slices.Clone(env), "DS4P_UPSTREAM_AUTH_PRIVATE_KEY_FILE="+keyFile, "DS4P_UPSTREAM_AUTH_KEY_ID=k"), "exactly one"},
		"neither":     {[]string{up, "DS4P_UPSTREAM_AUTH_TOKEN_URL=https://ehr.example/token", "DS4P_UPSTREAM_AUTH_CLIENT_ID=gw"}, "exactly one"},
		"no key id":   {[]string{up, "DS4P_UPSTREAM_AUTH_TOKEN_URL=https://ehr.example/token", "DS4P_UPSTREAM_AUTH_CLIENT_ID=gw", "DS4P_UPSTREAM_AUTH_PRIVATE_KEY_FILE=" + keyFile}, "key_id"},
		"junk key":    {[]string{up, "DS4P_UPSTREAM_AUTH_TOKEN_URL=https://ehr.example/token", "DS4P_UPSTREAM_AUTH_CLIENT_ID=gw", "DS4P_UPSTREAM_AUTH_PRIVATE_KEY_FILE=" + junk, "DS4P_UPSTREAM_AUTH_KEY_ID=k"}, "private_key_file"},
		"scope alone": {[]string{up, "DS4P_UPSTREAM_AUTH_SCOPE=system/*.rs"}, "token_url: required"},
	} {
		_, err := loadConfig(base, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "upstream_auth") || strings.Contains(err.Error(), "SECRETVALUE") {
			t.Errorf("%s: %v (want %q)", name, err, c.want)
		}
	}
	c.Upstream = "http://ehr.example/fhir"
	if w := strings.Join(plainHTTPWarnings(c), "\n"); !strings.Contains(w, "upstream_auth") {
		t.Errorf("plain http with upstream_auth: warnings %q", w)
	}
}

// TestUpstreamAuthWired: a stack built with upstream_auth sends the upstream
// the token it obtained from the token endpoint (client_secret_basic here).
func TestUpstreamAuthWired(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "gw" || secret != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok-from-grant","token_type":"Bearer","expires_in":300}`))
	}))
	defer tokenSrv.Close()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1","format":["json"]}`))
	}))
	defer upstream.Close()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.Upstream = upstream.URL + "/fhir"
	cfg.DataDir = t.TempDir()
	cfg.Auth.Dev = true
	cfg.UpstreamAuth = UpstreamAuthConfig{TokenURL: tokenSrv.URL + "/token", ClientID: "gw", ClientSecretFile: secret}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := openStack(t.Context(), cfg, newLogger(io.Discard, "error"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv := httptest.NewServer(st.server.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("/readyz sent nothing upstream")
	}
	for _, a := range got {
		if a != "Bearer tok-from-grant" {
			t.Errorf("the upstream got Authorization %q", a)
		}
	}
}

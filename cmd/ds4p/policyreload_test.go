package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyBuildAndServeBundle: `ds4p policy build --signing-key` writes a
// signed bundle that openPolicy loads from a URL with the public key, and
// refuses under another key. (As in OPA, the configured key id chooses the
// key; the signature's kid is not compared.)
func TestPolicyBuildAndServeBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(dir, "signing.pem")
	pub := filepath.Join(dir, "verify.pem")
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bundle.tar.gz")
	if code, stdout, stderr := ds4p(t, "policy", "build", "--out", out, "--signing-key", priv, "--key-id", "fleet"); code != 0 || !strings.Contains(stdout, "signed") {
		t.Fatalf("build: %d %s %s", code, stdout, stderr)
	}
	if code, _, _ := ds4p(t, "policy", "build"); code == 0 {
		t.Fatal("build without --out succeeded")
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, out) }))
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.DiscardHandler)

	cfg := Config{Policy: PolicyConfig{BundleURL: hs.URL + "/bundle.tar.gz?token=secret", BundlePublicKey: pub, BundleKeyID: "fleet"}}
	eng, err := openPolicy(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if st := eng.Status(); st.Revision == "" || strings.Contains(st.Source, "secret") || !strings.HasPrefix(st.Source, "bundle http") {
		t.Fatalf("status %+v", st)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherDER, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	wrong := filepath.Join(dir, "wrong.pem")
	if err := os.WriteFile(wrong, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: otherDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Policy.BundlePublicKey = wrong
	if _, err := openPolicy(ctx, cfg, log); err == nil {
		t.Fatal("a bundle not signed with the configured key was accepted")
	}
}

func TestPolicyConfigValidate(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		p   PolicyConfig
		dir string
		ok  bool
	}{
		"none":               {PolicyConfig{}, "", true},
		"bundle":             {PolicyConfig{BundleURL: "https://policies.example/ds4p.tar.gz"}, "", true},
		"bundle and dir":     {PolicyConfig{BundleURL: "https://policies.example/ds4p.tar.gz"}, "/tmp", false},
		"not http":           {PolicyConfig{BundleURL: "file:///etc/passwd"}, "", false},
		"key without bundle": {PolicyConfig{BundlePublicKey: "k.pem"}, "", false},
		"missing key file":   {PolicyConfig{BundleURL: "https://p.example/b.tar.gz", BundlePublicKey: "/nonexistent.pem"}, "", false},
		"negative poll":      {PolicyConfig{BundleURL: "https://p.example/b.tar.gz", BundlePoll: -1}, "", false},
	} {
		if errs := c.p.validate(c.dir); (len(errs) == 0) != c.ok {
			t.Errorf("%s: %v", name, errs)
		}
	}
}

// TestPolicyBuildSigningFlags: the signing flags without --signing-key are
// errors that say why, before any bundle is written.
func TestPolicyBuildSigningFlags(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--key-id", "fleet"}, "--key-id needs --signing-key"},
		{[]string{"--key-id", "default"}, "--key-id needs --signing-key"},
		{[]string{"--signing-alg", "RS256"}, "--signing-alg needs --signing-key"},
	} {
		code, stdout, stderr := ds4p(t, append([]string{"policy", "build", "--out", out}, c.args...)...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("policy build %v = %d %q %q; want 1 and %q", c.args, code, stdout, stderr, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("policy build %v wrote a bundle", c.args)
		}
	}
}

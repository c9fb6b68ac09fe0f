package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
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

	cfg := Config{DataDir: t.TempDir(), Policy: PolicyConfig{BundleURL: hs.URL + "/bundle.tar.gz?token=secret", BundlePublicKey: pub, BundleKeyID: "fleet"}}
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

// TestPolicyBundleKeyTypes: `ds4p policy build --signing-key` signs with an
// RSA, EC (SEC 1 or PKCS #8 PEM) or Ed25519 key, with the algorithm its
// type implies, and serve verifies the bundle with the public key alone,
// and refuses it under another key of the same type.
func TestPolicyBundleKeyTypes(t *testing.T) {
	t.Parallel()
	newKey := map[string]func() (crypto.Signer, error){
		"RS256": func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
		"ES256": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
		"ES384": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) },
		"EdDSA": func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err },
	}
	for alg, gen := range newKey {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write := func(name string, k crypto.Signer) string {
				t.Helper()
				var block *pem.Block
				if ec, ok := k.(*ecdsa.PrivateKey); ok && ec.Curve == elliptic.P256() {
					der, err := x509.MarshalECPrivateKey(ec) // as openssl ecparam -genkey writes it
					if err != nil {
						t.Fatal(err)
					}
					block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
				} else {
					der, err := x509.MarshalPKCS8PrivateKey(k)
					if err != nil {
						t.Fatal(err)
					}
					block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
				}
				pubDER, err := x509.MarshalPKIXPublicKey(k.Public())
				if err != nil {
					t.Fatal(err)
				}
				priv, pub := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub.pem")
				if err := os.WriteFile(priv, pem.EncodeToMemory(block), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
					t.Fatal(err)
				}
				return priv
			}
			k, err := gen()
			if err != nil {
				t.Fatal(err)
			}
			other, err := gen()
			if err != nil {
				t.Fatal(err)
			}
			priv := write("signing", k)
			write("other", other)
			out := filepath.Join(dir, "bundle.tar.gz")
			if code, stdout, stderr := ds4p(t, "policy", "build", "--out", out, "--signing-key", priv, "--key-id", "fleet"); code != 0 || !strings.Contains(stdout, "signed with "+alg+", key id fleet") {
				t.Fatalf("build: %d %s %s", code, stdout, stderr)
			}
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, out) }))
			t.Cleanup(hs.Close)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			cfg := Config{DataDir: t.TempDir(), Policy: PolicyConfig{BundleURL: hs.URL + "/bundle.tar.gz", BundlePublicKey: filepath.Join(dir, "signing.pub.pem"), BundleKeyID: "fleet"}}
			if _, err := openPolicy(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatalf("serve refused a bundle signed with its %s key: %v", alg, err)
			}
			cfg.Policy.BundlePublicKey = filepath.Join(dir, "other.pub.pem")
			if _, err := openPolicy(ctx, cfg, slog.New(slog.DiscardHandler)); err == nil {
				t.Fatal("a bundle signed with another key was accepted")
			}
			cfg.Policy.BundlePublicKey = priv
			if _, err := openPolicy(ctx, cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "give serve the public key") {
				t.Fatalf("serve with the private key as bundle_public_key: %v", err)
			}
		})
	}
}

// TestPolicyBuildSigningFlags: the signing flags without --signing-key, a
// key type serve cannot verify, an algorithm other than the key's and a
// public key as --signing-key are errors that say why, before any bundle
// is written.
func TestPolicyBuildSigningFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*pem.Block{"rsa.pem": {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}}
	if der, err := x509.MarshalECPrivateKey(p224); err == nil {
		files["p224.pem"] = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	} else {
		t.Fatal(err)
	}
	if der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey); err == nil {
		files["pub.pem"] = &pem.Block{Type: "PUBLIC KEY", Bytes: der}
	} else {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "bundle.tar.gz")
	// A signing flag without the key is a usage error (exit 2); a key
	// that cannot sign is found by reading it (exit 1).
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--key-id", "fleet"}, 2, "--key-id needs --signing-key"},
		{[]string{"--key-id", "default"}, 2, "--key-id needs --signing-key"},
		{[]string{"--signing-alg", "RS256"}, 2, "--signing-alg needs --signing-key"},
		{[]string{"--signing-key", filepath.Join(dir, "p224.pem")}, 1, "curve P-224 cannot sign policy bundles: use RSA (RS256), EC P-256 (ES256)"},
		{[]string{"--signing-key", filepath.Join(dir, "rsa.pem"), "--signing-alg", "ES256"}, 1, "this key signs with RS256"},
		{[]string{"--signing-key", filepath.Join(dir, "pub.pem")}, 1, "signing needs the private key"},
	} {
		code, stdout, stderr := ds4p(t, append([]string{"policy", "build", "--out", out}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("policy build %v = %d %q %q; want %d and %q", c.args, code, stdout, stderr, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("policy build %v wrote a bundle", c.args)
		}
	}
	if code, stdout, stderr := ds4p(t, "policy", "build", "--out", out, "--signing-key", filepath.Join(dir, "rsa.pem"), "--signing-alg", "RS256"); code != 0 || !strings.Contains(stdout, "signed with RS256, key id default") {
		t.Errorf("policy build --signing-alg RS256 with an RSA key = %d %q %q", code, stdout, stderr)
	}
}

// lockedBuffer is a log destination safe for the watcher's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestUnsignedPlainBundleWarns: a bundle over plain http with no public
// key to check its signature was accepted silently, though whoever is on
// the network path can replace the policy; serve now says so at start.
// With a key it does not.
func TestUnsignedPlainBundleWarns(t *testing.T) {
	t.Parallel()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pub := filepath.Join(t.TempDir(), "verify.pem")
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	signed, err := policy.BuildBundle(rego.FS(), &policy.BundleSigning{
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(signed) }))
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, key := range []string{"", pub} {
		var logged lockedBuffer
		cfg := Config{DataDir: t.TempDir(), Policy: PolicyConfig{BundleURL: hs.URL + "/bundle.tar.gz", BundlePublicKey: key}}
		if _, err := openPolicy(ctx, cfg, slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
			t.Fatal(err)
		}
		warned := strings.Contains(logged.String(), "level=WARN") && strings.Contains(logged.String(), "anyone on the network path")
		if warned != (key == "") {
			t.Errorf("public key %q: warned %v: %s", key, warned, logged.String())
		}
	}
	if w := unsignedPlainBundle(PolicyConfig{BundleURL: "https://policies.example/b.tar.gz"}); w != "" {
		t.Errorf("https without a key: %s", w)
	}
}

// TestPolicyBuildReplacesWhole: `policy build --out` over the bundle a file
// server is serving replaces it whole or not at all. It wrote in place, so a
// fleet's fetch under way read a truncated bundle, and a write that failed
// (a full disk) left no good bundle at all; a reader holding the old file
// now reads it whole, and a build that fails keeps it.
func TestPolicyBuildReplacesWhole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "bundle.tar.gz")
	old := []byte("the bundle the fleet is fetching")
	if err := os.WriteFile(out, old, 0o644); err != nil {
		t.Fatal(err)
	}
	serving, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer serving.Close()
	if code, stdout, stderr := ds4p(t, "policy", "build", "--out", out); code != 0 || !strings.Contains(stdout, "wrote") {
		t.Fatalf("build: %d %s %s", code, stdout, stderr)
	}
	got, err := io.ReadAll(serving)
	if err != nil || !bytes.Equal(got, old) {
		t.Errorf("the open bundle read %.40q (%v) while a build replaced it; want it whole: %q", got, err, old)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o644 || fi.Size() < 100 {
		t.Fatalf("the new bundle: %v %v; want a readable bundle (0644) for the file server", fi, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files beside the bundle: %v; want no temporary file left", ents)
	}
	// A build that fails (the policy does not compile) keeps the good one.
	good, _ := os.ReadFile(out)
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "broken.rego"), []byte("package ds4p.broken\n\nallow if {"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := ds4p(t, "policy", "build", "--dir", bad, "--out", out); code == 0 {
		t.Fatal("a policy that does not compile was built")
	}
	if now, _ := os.ReadFile(out); !bytes.Equal(now, good) {
		t.Error("a failed build changed the bundle")
	}
	// A symbolic link is followed, as a write in place followed it: the file
	// it names gets the new bundle and the link stays (QA round 36, area G:
	// the rename replaced the link and left the served file old).
	link := filepath.Join(dir, "current.tar.gz")
	if err := os.Symlink(out, link); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := ds4p(t, "policy", "build", "--out", link); code != 0 {
		t.Fatalf("build through a link: %d %s %s", code, stdout, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link: %v %v; want it kept", fi, err)
	}
	if now, _ := os.ReadFile(out); bytes.Equal(now, old) {
		t.Error("a build through a link left the file it names old")
	}
	// --out - writes the bundle to standard output and the summary to stderr.
	code, stdout, stderr := ds4p(t, "policy", "build", "--out", "-")
	if code != 0 || !strings.HasPrefix(stdout, "\x1f\x8b") || !strings.Contains(stderr, "wrote") {
		t.Errorf("build --out -: %d, stdout %.20q, stderr %q; want the gzipped bundle on stdout", code, stdout, stderr)
	}
}

package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeRefusesAnOlderBundleAfterRestart: bundles `ds4p policy build`
// signs carry their build time; serve keeps the newest it has loaded in
// the data directory, so after a restart a replay of an older signed
// bundle is refused at start (the proxy does not start on it), unless
// policy.bundle_allow_older says to load it.
func TestServeRefusesAnOlderBundleAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pubKey, privKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, pub := filepath.Join(dir, "signing.pem"), filepath.Join(dir, "verify.pem")
	privDER, _ := x509.MarshalPKCS8PrivateKey(privKey)
	pubDER, _ := x509.MarshalPKIXPublicKey(pubKey)
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	older, newer := filepath.Join(dir, "older.tar.gz"), filepath.Join(dir, "newer.tar.gz")
	for _, out := range []string{older, newer} {
		if code, stdout, stderr := ds4p(t, "policy", "build", "--out", out, "--signing-key", priv); code != 0 {
			t.Fatalf("build: %d %s %s", code, stdout, stderr)
		}
	}
	var served atomic.Value
	served.Store(newer)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, served.Load().(string)) }))
	t.Cleanup(hs.Close)
	log := slog.New(slog.DiscardHandler)
	data := t.TempDir()
	cfg := Config{DataDir: data, Policy: PolicyConfig{BundleURL: hs.URL + "/bundle.tar.gz", BundlePublicKey: pub}}

	ctx, cancel := context.WithCancel(context.Background())
	if _, err := openPolicy(ctx, cfg, log); err != nil {
		t.Fatal(err)
	}
	// The build time is kept once the bundle serves (the watch records it
	// as it starts).
	mark := filepath.Join(data, bundleHighWaterFile)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if raw, err := os.ReadFile(mark); err == nil && len(raw) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not written", mark)
		}
	}
	cancel() // the proxy stops

	served.Store(older) // a replay of the older bundle
	ctx2, cancel2 := context.WithCancel(context.Background())
	t.Cleanup(cancel2)
	if _, err := openPolicy(ctx2, cfg, log); err == nil || !strings.Contains(err.Error(), "before the bundle already loaded") {
		t.Fatalf("restart on the older bundle: %v", err)
	}
	newerMark, err := os.ReadFile(mark)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.BundleAllowOlder = true
	if _, err := openPolicy(ctx2, cfg, log); err != nil {
		t.Fatalf("restart on the older bundle with bundle_allow_older: %v", err)
	}
	// Rolled back: the file follows the bundle in force, so turning
	// bundle_allow_older off again starts on the bundle rolled back to.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if raw, err := os.ReadFile(mark); err == nil && len(raw) > 0 && string(raw) != string(newerMark) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still holds the newer bundle's build time under bundle_allow_older", mark)
		}
	}
	cancel2()
	cfg.Policy.BundleAllowOlder = false
	ctx3, cancel3 := context.WithCancel(context.Background())
	t.Cleanup(cancel3)
	if _, err := openPolicy(ctx3, cfg, log); err != nil {
		t.Fatalf("restart on the bundle rolled back to, bundle_allow_older off again: %v", err)
	}
}

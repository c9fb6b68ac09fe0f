package main

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestServerCertificateReloads: a certificate renewed in place is served
// without a restart; a changed pair that does not load keeps the previous
// one and makes the readiness check warn; an expired one fails it.
func TestServerCertificateReloads(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	_, certFile, keyFile := pki.issue(t, "proxy", true, "")
	cfg := Config{TLS: TLSConfig{CertFile: certFile, KeyFile: keyFile}}
	tc, certs, err := cfg.serverTLSReloading()
	if err != nil || tc == nil || certs == nil {
		t.Fatalf("serverTLSReloading: %v", err)
	}
	certs.every = 0 // read the files at every handshake here
	serial := func() string {
		c, err := tc.GetCertificate(nil)
		if err != nil || c == nil || c.Leaf == nil {
			t.Fatalf("GetCertificate: %v, %v", c, err)
		}
		return c.Leaf.SerialNumber.String()
	}
	first := serial()
	if err := certs.ReadyCheck(t.Context()); err != nil {
		t.Errorf("ready with a good certificate: %v", err)
	}
	// Renewed in place: the same paths, new contents.
	_, newCert, newKey := pki.issue(t, "proxy-renewed", true, "")
	copyFile(t, newCert, certFile)
	copyFile(t, newKey, keyFile)
	renewed := serial()
	if renewed == first {
		t.Fatalf("the renewed certificate is not served (serial %s)", renewed)
	}
	// Half written: the certificate file holds no certificate.
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERT"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := serial(); got != renewed {
		t.Errorf("a pair that does not load replaced the served one: %s", got)
	}
	var d interface{ Degraded() bool }
	if err := certs.ReadyCheck(t.Context()); err == nil || !errors.As(err, &d) || !d.Degraded() {
		t.Errorf("readiness with a changed pair that does not load: %v; want a warning", err)
	}
	// Expired (the clock past NotAfter): a failure, not a warning.
	copyFile(t, newCert, certFile)
	certs.now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	if err := certs.ReadyCheck(t.Context()); err == nil || errors.As(err, &d) {
		t.Errorf("readiness with an expired certificate: %v; want a failure", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

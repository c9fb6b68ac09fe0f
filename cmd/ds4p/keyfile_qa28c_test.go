package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFileReadBeforeDataDirQA28C: auth.key_file is read (not only
// found) before the data directory is touched, as the README says, and one
// that holds no key is refused. A key file that did not parse stopped
// serve after it had made the data directory, its database and a storage
// key; an empty one (or an empty JWK Set) started a proxy that refused
// every token with /readyz passing.
func TestKeyFileReadBeforeDataDirQA28C(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct{ name, content, want string }{
		{"empty.pem", "", "holds no key"},
		{"noKeys.json", `{"keys":[]}`, "holds no key"},
		{"garbage.pem", "not a key\n", "reading key file"},
	} {
		f := write(c.name, c.content)
		data := filepath.Join(dir, "data-"+c.name)
		var stdout, stderr bytes.Buffer
		// A context already ended: a serve that went past its checks
		// stops at once instead of serving.
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		code := run(ctx, []string{"serve", "--upstream", "http://127.0.0.1:1/fhir", "--listen", "127.0.0.1:0", "--key-file", f, "--data", data}, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "auth.key_file") || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 naming auth.key_file and %q", c.name, code, stderr.String(), c.want)
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was made: %v", c.name, err)
		}
	}

	// A public key in PEM passes.
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	good := write("good.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	if err := checkKeyFile(good); err != nil {
		t.Errorf("a PEM public key: %v", err)
	}
}

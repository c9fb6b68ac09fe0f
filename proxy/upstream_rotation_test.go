package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// replaceFile writes content to path as a secrets agent does: a new file
// renamed over the old one.
func replaceFile(t *testing.T, path string, content []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestClientSecretRotatedInPlace: a site rotates the client secret in its
// file while ds4p runs, and the token server takes only the new one: the
// next token is fetched with the new secret, without a restart. A rotated
// file that holds no secret fails the fetch closed (the old secret is not
// sent, nor is anything else) until it is fixed.
func TestClientSecretRotatedInPlace(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil, "")
	ts.secret = "first-secret"
	file := filepath.Join(t.TempDir(), "secret")
	replaceFile(t, file, []byte("first-secret\n"))
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: ts.url(), ClientID: ts.client, Scope: ts.scope, ClientSecretFile: file})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := creds.Token(ctx)
	if err != nil || tok != "tok-1" {
		t.Fatalf("first token %q, %v", tok, err)
	}

	ts.mu.Lock()
	ts.secret = "the-rotated-secret"
	ts.mu.Unlock()
	replaceFile(t, file, []byte("the-rotated-secret\n"))
	creds.Rejected(tok) // the upstream no longer takes it
	if tok, err = creds.Token(ctx); err != nil || tok != "tok-2" {
		t.Fatalf("after the rotation: %q, %v", tok, err)
	}
	ts.check()

	// Rotated to nothing (an agent's half-written file): no fetch at all.
	replaceFile(t, file, []byte("  \n"))
	creds.Rejected(tok)
	ts.mu.Lock()
	hits := ts.hits
	ts.mu.Unlock()
	time.Sleep(credentialRecheck + 100*time.Millisecond)
	if _, err = creds.Token(ctx); err == nil || !strings.Contains(err.Error(), "client_secret_file") || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("an empty secret file: %v", err)
	}
	ts.mu.Lock()
	if ts.hits != hits {
		t.Errorf("the token server was asked with an empty secret file (%d requests, %d before)", ts.hits, hits)
	}
	ts.mu.Unlock()
	replaceFile(t, file, []byte("the-rotated-secret"))
	time.Sleep(max(credentialRecheck, tokenRetryAfter) + 100*time.Millisecond)
	if tok, err = creds.Token(ctx); err != nil || tok != "tok-3" {
		t.Fatalf("the fixed file: %q, %v", tok, err)
	}
	ts.check()
}

// TestPrivateKeyRotatedInPlace: the same for SMART Backend Services: the
// site registers a new key with the token server and writes it over the
// old key's file; the next assertion is signed with the new key.
func TestPrivateKeyRotatedInPlace(t *testing.T) {
	t.Parallel()
	pemOf := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	oldKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	newKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ts := newTokenServer(t, &oldKey.PublicKey, jwa.ES384)
	file := filepath.Join(t.TempDir(), "key.pem")
	replaceFile(t, file, pemOf(oldKey))
	creds, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: ts.url(), ClientID: ts.client, Scope: ts.scope,
		PrivateKeyFile: file, KeyID: "key-2026"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, err := creds.Token(ctx)
	if err != nil || tok != "tok-1" {
		t.Fatalf("first token %q, %v", tok, err)
	}
	ts.mu.Lock()
	ts.pub = &newKey.PublicKey
	ts.mu.Unlock()
	replaceFile(t, file, pemOf(newKey))
	creds.Rejected(tok)
	if tok, err = creds.Token(ctx); err != nil || tok != "tok-2" {
		t.Fatalf("after the rotation: %q, %v", tok, err)
	}
	ts.check()
}

// TestCredentialFileRereadWhenRefused: a credential the token server
// refuses is read again at once, not after the second a file is trusted
// for, and a refusal of an older credential does not drop a newer one.
func TestCredentialFileRereadWhenRefused(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "secret")
	replaceFile(t, file, []byte("one"))
	f := newCredentialFile(file, "client_secret_file", parseSecret)
	if s, err := f.get(); err != nil || s != "one" {
		t.Fatalf("get = %q, %v", s, err)
	}
	replaceFile(t, file, []byte("two"))
	if s, _ := f.get(); s != "one" {
		t.Fatalf("read again within the second: %q", s)
	}
	f.rejected(func(s string) bool { return s == "zero" }) // an older one
	if s, _ := f.get(); s != "one" {
		t.Fatalf("a refusal of another credential made it read again: %q", s)
	}
	f.rejected(func(s string) bool { return s == "one" })
	if s, err := f.get(); err != nil || s != "two" {
		t.Fatalf("after the refusal: %q, %v", s, err)
	}
}

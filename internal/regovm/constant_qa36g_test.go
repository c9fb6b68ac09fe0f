package regovm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestCertificateCheckIsNoConstantQA36G: crypto.x509.parse_and_verify_certificates
// checks a chain against the clock (x509.VerifyOptions.CurrentTime zero is
// now), though OPA does not mark it nondeterministic. A rule verifying a
// chain of the policy data read no input and was worked out once when the
// program was compiled: a certificate that expired later still verified in
// every evaluation until a reload, where OPA's evaluator refuses it from
// its expiry on. It is worked out by each evaluation, as time.now_ns is.
func TestCertificateCheckIsNoConstantQA36G(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	one := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	chain, _ := json.Marshal(one + one)
	mods := parse(t, `package p

valid := v if {
	[v, _] := crypto.x509.parse_and_verify_certificates(data.chain)
}

valid_opts := v if {
	[v, _] := crypto.x509.parse_and_verify_certificates_with_options(data.chain, {"KeyUsages": ["KeyUsageAny"]})
}

r := {"valid": valid, "valid_opts": valid_opts}
`)
	raw, data := jsonData(t, `{"chain": `+string(chain)+`}`)
	prog, err := Compile(context.Background(), "x := data.p.r", "x", mods, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range []string{"valid", "valid_opts"} {
		if constantRule(t, prog, rule) {
			t.Errorf("rule %s: worked out once at compile time, but its answer follows the clock", rule)
		}
	}
	want, err := reference(t, "x := data.p.r", mods, raw, ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	if want.String() != `{"valid": true, "valid_opts": true}` {
		t.Fatalf("OPA's evaluator: %v, want the chain valid", want)
	}
	if got, err := prog.Eval(context.Background(), ast.NewObject(), Options{StrictBuiltinErrors: true}); err != nil || !equal(got, want) {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
}

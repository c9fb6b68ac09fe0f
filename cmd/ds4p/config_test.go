package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/heapfloor"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ds4p.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://file:1/fhir\nlisten: 127.0.0.1:1111\nlog_level: warn\nauth:\n  dev: true\nlimits:\n  upstream_timeout: 5s\n")
	env := []string{"DS4P_LISTEN=127.0.0.1:2222", "DS4P_UPSTREAM_TIMEOUT=7s", "PATH=/bin"}
	c, err := loadConfig([]string{"--config", file, "--listen", "127.0.0.1:3333"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Upstream != "http://file:1/fhir" || c.LogLevel != "warn" || !c.Auth.Dev {
		t.Errorf("file values lost: %+v", c)
	}
	if c.Limits.UpstreamTimeout != 7*time.Second {
		t.Errorf("env did not override the file: %v", c.Limits.UpstreamTimeout)
	}
	if c.Listen != "127.0.0.1:3333" {
		t.Errorf("flag did not override env and file: %s", c.Listen)
	}
	if c.Limits.MaxBodyBytes == 0 || c.DataDir != DefaultDataDir {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestConfigRejectsUnknownKeys(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://x/fhir\nauth:\n  dev: true\n  jwks: http://typo\n")
	_, err := loadConfig([]string{"--config", file}, nil)
	if err == nil || !strings.Contains(err.Error(), "jwks") {
		t.Fatalf("unknown key accepted: %v", err)
	}
	_, err = loadConfig([]string{"--upstream", "http://x/fhir", "--dev-auth"}, []string{"DS4P_UPSTREM=http://typo"})
	if err == nil || !strings.Contains(err.Error(), "DS4P_UPSTREM") {
		t.Fatalf("unknown DS4P_ variable accepted: %v", err)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := loadConfig([]string{"--listen", "nope", "--log-level", "loud"}, []string{"DS4P_UPSTREAM_TIMEOUT=-1s"})
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"listen", "upstream", "auth", "log_level", "limits"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problem with %s not reported in:\n%v", want, err)
		}
	}
}

func TestHelpNamesEveryCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), c.name) {
			t.Errorf("help does not name %s:\n%s", c.name, out.String())
		}
	}
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
	out.Reset()
	if code := run(context.Background(), []string{"help", "serve"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "-upstream") {
		t.Errorf("help serve: exit %d\n%s", code, out.String())
	}
}

func TestTokenRequiresSubject(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"token", "--data", t.TempDir()}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--sub") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	// A purpose the proxy would read as unknown is refused, with the code
	// meant, unless asked for; TEFCA codes map to v3 ones.
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"token", "--data", t.TempDir(), "--sub", "s", "--purpose", "TREAT,treat"}, &out, &errOut); code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), `did you mean "TREAT"?`) {
		t.Errorf("token --purpose treat: %d %q %q", code, out.String(), errOut.String())
	}
	for _, args := range [][]string{{"--purpose", "T-PYMNT"}, {"--purpose", "LOCAL", "--any-purpose"}} {
		out.Reset()
		errOut.Reset()
		if code := run(context.Background(), append([]string{"token", "--data", t.TempDir(), "--sub", "s"}, args...), &out, &errOut); code != 0 || strings.Count(out.String(), ".") != 2 {
			t.Errorf("token %v: %d %q %q", args, code, out.String(), errOut.String())
		}
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"token", "--data", t.TempDir(), "--sub", "s", "--purpose", "TREAT"}, &out, &errOut); code != 0 || strings.Count(out.String(), ".") != 2 {
		t.Fatalf("exit %d: %q", code, out.String())
	}
	for _, ttl := range []string{"0", "-1h"} {
		out.Reset()
		errOut.Reset()
		if code := run(context.Background(), []string{"token", "--data", t.TempDir(), "--sub", "s", "--ttl", ttl}, &out, &errOut); code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), "positive lifetime") {
			t.Errorf("token --ttl %s = exit %d, %q %q; want 2 (a usage error), no token and why", ttl, code, out.String(), errOut.String())
		}
	}
}

func TestConfigAuthAndTLS(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, `upstream: https://x/fhir
upstream_ca_file: /etc/ca.pem
auth:
  dev: true
  skew: 10s
  jwks_min_refresh: 1m
  purpose_claims: [purpose_of_use, ext.pou]
  org_claim: organization
  break_glass_claim: btg
  org_name_claim: recipient_name
  org_address_claim: recipient_address
tls:
  cert_file: /c.pem
  key_file: /k.pem
  client_ca_file: /ca.pem
  require_client_cert: true
`)
	c, err := loadConfig([]string{"--config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.Skew != 10*time.Second || c.Auth.JWKSMinRefresh != time.Minute || len(c.Auth.PurposeClaims) != 2 ||
		c.Auth.OrgClaim != "organization" || c.Auth.BreakGlassClaim != "btg" || c.UpstreamCAFile != "/etc/ca.pem" ||
		c.Auth.OrgNameClaim != "recipient_name" || c.Auth.OrgAddressClaim != "recipient_address" ||
		!c.TLS.RequireClientCert || c.TLS.ClientCAFile != "/ca.pem" {
		t.Fatalf("config = %+v", c)
	}
	for _, bad := range []string{
		"auth:\n  dev: true\ntls:\n  cert_file: /c.pem\n",         // no key
		"auth:\n  dev: true\ntls:\n  require_client_cert: true\n", // no cert, no CA
		"auth:\n  dev: true\n  purpose_claims: [\".x\"]\n",        // not a path
		"auth:\n  dev: true\n  skew: 1h\n",                        // outside 0..5m
		"auth:\n  dev: true\n  jwks_min_refresh: -1s\n",           // negative
	} {
		if _, err := loadConfig([]string{"--config", writeConfig(t, "upstream: http://x/fhir\n"+bad)}, nil); err == nil {
			t.Errorf("accepted: %q", bad)
		}
	}
}

// testPKI is a CA and the certificates it signs, written as PEM files.
type testPKI struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ds4p test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{dir: t.TempDir(), ca: ca, caKey: key}
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue signs a leaf certificate; it returns the cert and key files.
func (p *testPKI) issue(t *testing.T, name string, server bool, uri string) (tls.Certificate, string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if uri != "" {
		u, _ := url.Parse(uri)
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile := p.write(t, name+".pem", "CERTIFICATE", der)
	keyFile := p.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

// TestMutualTLSAndUpstreamCA runs the whole stack over real HTTPS on
// loopback: callers must present a client certificate from the configured
// CA (refused in the handshake otherwise), the token's client_id must name
// the certificate, and the upstream is reached over TLS trusting only
// upstream_ca_file.
func TestMutualTLSAndUpstreamCA(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"}}`))
	}))
	t.Cleanup(upstream.Close)
	upCA := pki.write(t, "upstream-ca.pem", "CERTIFICATE", upstream.Certificate().Raw)
	_, serverCert, serverKey := pki.issue(t, "proxy", true, "")
	clientA, _, _ := pki.issue(t, "client-a", false, "")
	clientURI, _, _ := pki.issue(t, "client-u", false, "spiffe://example.org/ehr")

	start := func(t *testing.T, upstreamCA string) (string, string) {
		cfg := defaultConfig()
		cfg.Upstream = upstream.URL + "/fhir"
		cfg.DataDir = t.TempDir()
		cfg.Auth.Dev = true
		cfg.UpstreamCAFile = upstreamCA
		cfg.TLS = TLSConfig{CertFile: serverCert, KeyFile: serverKey, ClientCAFile: pki.caFile, RequireClientCert: true}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		st, err := openStack(ctx, cfg, newLogger(io.Discard, "error"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		tc, err := cfg.serverTLS()
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = serveHTTP(ctx, tls.NewListener(ln, tc), st.server.Handler(), 5*time.Second) }()
		return "https://" + ln.Addr().String(), cfg.DataDir
	}
	base, data := start(t, upCA)
	roots := x509.NewCertPool()
	roots.AddCert(pki.ca)
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}}
	}
	token := func(client string) string {
		tok, err := authn.MintDev(data, authn.DevClaims{Subject: "s", Org: "Organization/o", Client: client, Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	get := func(c *http.Client, tok string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, base+"/fhir/Observation/o1", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}

	if status, err := get(client(clientA), token("client-a")); err != nil || status != 200 {
		t.Fatalf("matching client certificate and token: %d %v", status, err)
	}
	if status, err := get(client(clientA), token("")); err != nil || status != 200 {
		t.Fatalf("token without client_id (takes the certificate's name): %d %v", status, err)
	}
	if status, err := get(client(clientURI), token("spiffe://example.org/ehr")); err != nil || status != 200 {
		t.Fatalf("URI SAN identity: %d %v", status, err)
	}
	if status, err := get(client(clientA), token("client-b")); err != nil || status != 401 {
		t.Fatalf("token of another client over client-a's certificate: %d %v", status, err)
	}
	if status, err := get(client(), token("client-a")); err == nil {
		t.Fatalf("no client certificate: got HTTP %d, want a TLS handshake failure", status)
	}
	// A self-signed certificate from outside the CA is refused too.
	rogue := newTestPKI(t)
	rogueCert, _, _ := rogue.issue(t, "client-a", false, "")
	if status, err := get(client(rogueCert), token("client-a")); err == nil {
		t.Fatalf("certificate from another CA: got HTTP %d", status)
	}

	// Without upstream_ca_file the upstream's certificate is not trusted:
	// the response is withheld (502), nothing of it is passed on.
	base2, data2 := start(t, "")
	base, data = base2, data2
	if status, err := get(client(clientA), token("client-a")); err != nil || status != http.StatusBadGateway {
		t.Fatalf("untrusted upstream certificate: %d %v", status, err)
	}
}

func TestHeapFloorConfig(t *testing.T) {
	t.Parallel()
	base := []string{"--upstream", "http://x/fhir", "--dev-auth"}
	c, err := loadConfig(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HeapFloorBytes != DefaultHeapFloorBytes {
		t.Errorf("default heap_floor_bytes %d; want %d", c.HeapFloorBytes, DefaultHeapFloorBytes)
	}
	file := writeConfig(t, "heap_floor_bytes: 0\n")
	if c, err = loadConfig(append([]string{"--config", file}, base...), nil); err != nil || c.HeapFloorBytes != 0 {
		t.Errorf("heap_floor_bytes: 0 in the file gave %d, %v", c.HeapFloorBytes, err)
	}
	if c, err = loadConfig(append([]string{"--config", file}, base...), []string{"DS4P_HEAP_FLOOR_BYTES=1048576"}); err != nil || c.HeapFloorBytes != 1<<20 {
		t.Errorf("DS4P_HEAP_FLOOR_BYTES did not override the file: %d, %v", c.HeapFloorBytes, err)
	}
	for _, bad := range []string{"-1", "4294967297"} {
		_, err = loadConfig(base, []string{"DS4P_HEAP_FLOOR_BYTES=" + bad})
		if err == nil || !strings.Contains(err.Error(), "heap_floor_bytes") {
			t.Errorf("heap floor %s was accepted: %v", bad, err)
		}
	}
	if c, err = loadConfig(base, []string{"DS4P_HEAP_FLOOR_BYTES=4294967296"}); err != nil || c.HeapFloorBytes != MaxHeapFloorBytes {
		t.Errorf("the largest heap floor was refused: %v", err)
	}
}

func TestLedgerJournalConfig(t *testing.T) {
	t.Parallel()
	base := []string{"--upstream", "http://x/fhir", "--dev-auth"}
	c, err := loadConfig(base, nil)
	if err != nil || c.Ledger.JournalBytes != audit.DefaultJournalSize {
		t.Fatalf("default ledger.journal_bytes %d, %v; want %d", c.Ledger.JournalBytes, err, audit.DefaultJournalSize)
	}
	file := writeConfig(t, "ledger:\n  journal_bytes: 0\n")
	if c, err = loadConfig(append([]string{"--config", file}, base...), nil); err != nil || c.Ledger.JournalBytes != 0 {
		t.Errorf("journal_bytes: 0 in the file gave %d, %v", c.Ledger.JournalBytes, err)
	}
	if c, err = loadConfig(append([]string{"--config", file}, base...), []string{"DS4P_LEDGER_JOURNAL_BYTES=4194304"}); err != nil || c.Ledger.JournalBytes != 4<<20 {
		t.Errorf("DS4P_LEDGER_JOURNAL_BYTES did not override the file: %d, %v", c.Ledger.JournalBytes, err)
	}
	for _, bad := range []string{"-1", "1000", "2147483648"} {
		_, err = loadConfig(base, []string{"DS4P_LEDGER_JOURNAL_BYTES=" + bad})
		if err == nil || !strings.Contains(err.Error(), "ledger.journal_bytes") {
			t.Errorf("journal size %s was accepted: %v", bad, err)
		}
	}
}

func TestApplyHeapFloor(t *testing.T) {
	defer heapfloor.Set(0)
	var logs bytes.Buffer
	log := newLogger(&logs, "info")
	if got := applyHeapFloor(1<<20, "", log); got != 1<<20 || heapfloor.Floor() != 1<<20 {
		t.Errorf("applyHeapFloor(1 MiB) = %d, floor %d", got, heapfloor.Floor())
	}
	// An operator who set GOGC tuned the collector: the floor stays off.
	if got := applyHeapFloor(1<<20, "50", log); got != 0 || heapfloor.Floor() != 0 {
		t.Errorf("applyHeapFloor with GOGC=50 = %d, floor %d", got, heapfloor.Floor())
	}
	if !strings.Contains(logs.String(), "GOGC is set") {
		t.Errorf("no log line says why the floor was not applied:\n%s", logs.String())
	}
}

func TestPolicyEvaluatorConfig(t *testing.T) {
	t.Parallel()
	base := []string{"--upstream", "http://x/fhir", "--dev-auth"}
	file := writeConfig(t, "policy:\n  evaluator: topdown\n")
	c, err := loadConfig(append([]string{"--config", file}, base...), nil)
	if err != nil || c.Policy.Evaluator != policy.EvaluatorTopdown {
		t.Fatalf("policy.evaluator: topdown in the file gave %q, %v", c.Policy.Evaluator, err)
	}
	log := newLogger(io.Discard, "error")
	eng, err := openPolicy(context.Background(), c, log)
	if err != nil {
		t.Fatal(err)
	}
	if s := eng.Status().Evaluator; !strings.HasPrefix(s, policy.EvaluatorTopdown) {
		t.Errorf("configured topdown, the engine reports %q", s)
	}
	if c, err = loadConfig(base, []string{"DS4P_POLICY_EVALUATOR=ir"}); err != nil {
		t.Fatal(err)
	}
	if eng, err = openPolicy(context.Background(), c, log); err != nil || eng.Status().Evaluator != policy.EvaluatorIR {
		t.Errorf("DS4P_POLICY_EVALUATOR=ir: %v, %v", eng, err)
	}
	if _, err = loadConfig(base, []string{"DS4P_POLICY_EVALUATOR=wasm"}); err == nil || !strings.Contains(err.Error(), "evaluator") {
		t.Errorf("an unknown evaluator was accepted: %v", err)
	}
}

// TestDemoRefusesAnotherDatabase: demo --data on serve's data directory
// would chain synthetic disclosures into its ledger; it is refused, while a
// directory the demo made itself can be used again.
func TestDemoRefusesAnotherDatabase(t *testing.T) {
	t.Parallel()
	served := ledgerDir(t, 1, 0) // a database the demo did not make
	if _, _, err := demoDataDir(served); err == nil || !strings.Contains(err.Error(), "the demo did not make") {
		t.Errorf("demo on a served data directory: %v, want refused", err)
	}
	fresh := filepath.Join(t.TempDir(), "demo")
	if dir, _, err := demoDataDir(fresh); err != nil || dir != fresh {
		t.Fatalf("demo on a new directory: %q %v", dir, err)
	}
	if err := os.WriteFile(filepath.Join(fresh, DBFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := demoDataDir(fresh); err != nil {
		t.Errorf("demo again on its own directory: %v", err)
	}
}

// TestUsageErrorsExitTwo: a command line that names no command, a command
// group without a subcommand or with an unknown one, or label without its
// input, prints the usage to stderr and exits 2; asking for help prints it
// to stdout and exits 0.
func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	if code, out, errOut := ds4p(t); code != 2 || out != "" || !strings.Contains(errOut, "Usage: ds4p COMMAND") {
		t.Errorf("ds4p = exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, out, errOut)
	}
	for group, sub := range map[string]string{"audit": "verify", "policy": "build", "consent": "import", "keys": "rotate"} {
		code, out, errOut := ds4p(t, group)
		if code != 2 || out != "" || !strings.Contains(errOut, "ds4p "+group+" "+sub) || !strings.Contains(errOut, "ds4p "+group+": a subcommand is required") {
			t.Errorf("ds4p %s = exit %d, stdout %q, stderr %q; want 2, the usage on stderr and that a subcommand is required", group, code, out, errOut)
		}
	}
	for _, args := range [][]string{{"audit", "frob"}, {"policy", "frob"}, {"consent", "frob"}, {"keys", "frob"}} {
		if code, out, errOut := ds4p(t, args...); code != 2 || out != "" || !strings.Contains(errOut, `ds4p `+args[0]+`: unknown subcommand "frob"`) {
			t.Errorf("ds4p %v = exit %d, %q %q; want 2 naming the subcommand", args, code, out, errOut)
		}
	}
	if code, _, errOut := ds4p(t, "label"); code != 2 || !strings.Contains(errOut, "one input file") {
		t.Errorf("ds4p label = exit %d, %q; want 2", code, errOut)
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"audit", "--help"}, {"audit", "-h"}, {"policy", "help"}, {"help", "consent"}, {"keys", "--help"}} {
		if code, out, errOut := ds4p(t, args...); code != 0 || out == "" || errOut != "" {
			t.Errorf("ds4p %v = exit %d, stdout %q, stderr %q; want 0 and the usage on stdout", args, code, out, errOut)
		}
	}
}

// TestBadFlagsExitTwo: an unknown flag, a flag value of the wrong form, a
// missing required flag and a missing or extra argument are usage errors
// (exit 2) in every command, like an unknown subcommand, and say what is
// wrong; --help still exits 0 and a command that runs and fails exits 1.
func TestBadFlagsExitTwo(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "eval", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"policy", "eval"}, "--input is required"},
		{[]string{"policy", "build"}, "--out is required"},
		{[]string{"policy", "export"}, "--dir is required"},
		{[]string{"policy", "check", "extra"}, "unexpected arguments: [extra]"},
		{[]string{"token", "--data", data}, "--sub is required"},
		{[]string{"token", "--data", data, "--sub", "s", "--ttl", "an hour"}, `invalid value "an hour" for flag -ttl`},
		{[]string{"token", "--data", data, "--sub", "s", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve", "--upstream", "http://x/fhir", "--dev-auth", "extra"}, "unexpected arguments: [extra]"},
		{[]string{"demo", "--patients", "ten"}, `invalid value "ten" for flag -patients`},
		{[]string{"label", "--bogus", "x.json"}, "flag provided but not defined: -bogus"},
		{[]string{"audit", "export", "--data", data}, "--out is required"},
		{[]string{"audit", "query", "--data", data, "--limit", "x"}, `invalid value "x" for flag -limit`},
		{[]string{"audit", "verify", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"audit", "prune", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"consent", "import", "--data", data}, "give at least one file"},
		{[]string{"consent", "show", "--data", data}, "give exactly one consent id"},
		{[]string{"consent", "revoke", "--data", data, "--bogus", "x"}, "flag provided but not defined: -bogus"},
		{[]string{"consent", "show", "--data", data, "--version", "one", "x"}, `invalid value "one" for flag -version`},
		{[]string{"keys", "generate"}, "--out is required"},
		{[]string{"keys", "status", "extra"}, "unexpected arguments: [extra]"},
		{[]string{"keys", "remove", "--id", "zz"}, `--id "zz" is not a key id`},
		// Arguments no command takes are not silently ignored.
		{[]string{"token", "--data", data, "--sub", "s", "extra"}, "unexpected arguments: [extra]"},
		{[]string{"demo", "extra"}, "unexpected arguments: [extra]"},
		{[]string{"audit", "verify", "--data", data, "extra"}, "unexpected arguments: [extra]"},
		{[]string{"audit", "prune", "--data", data, "extra"}, "unexpected arguments: [extra]"},
		{[]string{"policy", "export", "--dir", filepath.Join(data, "p"), "extra"}, "unexpected arguments: [extra]"},
		{[]string{"consent", "list", "--data", data, "extra"}, "unexpected arguments: [extra]"},
	} {
		code, out, errOut := ds4p(t, c.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("ds4p %v = exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
	for _, args := range [][]string{{"policy", "eval", "--help"}, {"token", "-h"}, {"audit", "export", "--help"}, {"keys", "generate", "--help"}} {
		if code, out, errOut := ds4p(t, args...); code != 0 || !strings.Contains(out+errOut, "Usage: ds4p") {
			t.Errorf("ds4p %v = exit %d, stdout %q, stderr %q; want 0 and the usage", args, code, out, errOut)
		}
	}
	// A well-formed command line that fails when it runs stays 1.
	if code, _, errOut := ds4p(t, "policy", "eval", "--input", filepath.Join(data, "missing.json")); code != 1 || !strings.Contains(errOut, "missing.json") {
		t.Errorf("policy eval of a missing input = exit %d, %q; want 1", code, errOut)
	}
}

// TestErrorsDoNotRepeatTheCommand: an error of the package a command runs
// starts with the package's name ("consent: ", "policy: "); ds4p prints
// it after "ds4p consent: " once, not twice.
func TestErrorsDoNotRepeatTheCommand(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if code, _, errOut := ds4p(t, "consent", "import", "--data", data, "../../consent/testdata/hl7-r4"); code != 0 {
		t.Fatalf("import: %d %s", code, errOut)
	}
	code, _, errOut := ds4p(t, "consent", "list", "--data", data, "--status", "bogus")
	if code != 2 || !strings.HasPrefix(errOut, "ds4p consent: invalid consent") {
		t.Errorf("consent list --status bogus = %d %q; want 2 (a value of the wrong form) and one \"consent: \"", code, errOut)
	}
	code, _, errOut = ds4p(t, "policy", "build", "--dir", t.TempDir(), "--out", filepath.Join(t.TempDir(), "b.tar.gz"))
	if code != 1 || !strings.HasPrefix(errOut, "ds4p policy: ") || strings.Contains(errOut, "policy: policy: ") {
		t.Errorf("policy build of an empty directory = %d %q; want 1 and one \"policy: \"", code, errOut)
	}
	for _, c := range []struct{ name, msg, want string }{
		{"audit", "audit: indexing: x", "indexing: x"},
		{"audit", "audit: audit: x", "x"},
		{"label", "labels: no rule files", "no rule files"},
		{"label", "labels.rules_dir: labels: x", "labels.rules_dir: labels: x"},
		{"policy", "revision x: policy: y", "revision x: policy: y"},
		{"keys", "seal: x", "seal: x"},
	} {
		if got := trimCommandPrefix(c.name, c.msg); got != c.want {
			t.Errorf("trimCommandPrefix(%q, %q) = %q, want %q", c.name, c.msg, got, c.want)
		}
	}
}

// TestProxyChecksRunWithTheRest: the proxy's own checks (base URL forms,
// enforcement) are reported with the configuration's, all at once, before
// serve touches the data directory.
func TestProxyChecksRunWithTheRest(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, err := loadConfig([]string{"--upstream", "http://ehr/fhir", "--dev-auth", "--upstream-ca-file", "ca.pem"}, nil); err == nil || !strings.Contains(err.Error(), "upstream_ca_file: set, but the upstream") {
		t.Errorf("a CA for a plain http upstream: %v", err)
	}
	_, err := loadConfig([]string{"--upstream", "http://ehr/fhir?x=1", "--public-base-url", "ftp://proxy/fhir",
		"--dev-auth", "--data", data, "--log-level", "loud"}, []string{"DS4P_ENFORCEMENT_TOTAL=maybe"})
	for _, want := range []string{"upstream: the URL has a query", "public_base_url: scheme \"ftp\"", "log_level:", "enforcement.total:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("loadConfig: %v; want %q among the problems", err, want)
		}
	}
	if _, statErr := os.Stat(data); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("the data directory was touched for a refused configuration: %v", statErr)
	}
}

// TestConfigMistakesInTheFilesTerms: YAML and environment mistakes name the
// line, the setting's path and what it should be, not Go's types.
func TestConfigMistakesInTheFilesTerms(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("upstream: http://ehr/fhir\nupstrem: x\nlimits:\n  upstream_timeout: 30\nauth:\n  dev: maybe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig([]string{"--config", path}, nil)
	for _, want := range []string{`line 2 (upstrem): unknown setting "upstrem"`, "line 4 (limits.upstream_timeout): 30 is not a duration with a unit",
		"line 6 (auth.dev): maybe is not true or false"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("loadConfig: %v; want %q", err, want)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "main.Config") || strings.Contains(err.Error(), "time.Duration")) {
		t.Errorf("Go types in the message: %v", err)
	}
	_, err = loadConfig([]string{"--upstream", "http://ehr/fhir", "--dev-auth"}, []string{"DS4P_TOKEN_SKEW=10", "DS4P_MAX_BODY_BYTES=lots"})
	for _, want := range []string{`DS4P_TOKEN_SKEW: "10" is not a duration with a unit`, `"lots" is not a whole number`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("loadConfig with env: %v; want %q", err, want)
		}
	}
}

// TestKeysHelpOnStdout: asked for, a keys subcommand's help goes to stdout
// with exit 0, as every other command's does.
func TestKeysHelpOnStdout(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "generate", "--help"}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "Usage: ds4p keys generate") || !strings.Contains(out.String(), "-out") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

// TestMissingKeyFileCreatesNothing: an explicit storage.key_file that does
// not exist stops serve before the data directory gets a database.
func TestMissingKeyFileCreatesNothing(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Storage.KeyFile = filepath.Join(t.TempDir(), "no-such.key")
	if _, err := openStack(t.Context(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "storage.key_file") {
		t.Fatalf("openStack: %v", err)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the data directory was made: %v", err)
	}
}

func TestUpstreamAliasesConfig(t *testing.T) {
	t.Parallel()
	base := []string{"--upstream", "http://ehr.internal:8080/fhir/R4", "--dev-auth"}
	file := writeConfig(t, "upstream_aliases: [\"https://ehr.example.org/fhir/R4\"]\n")
	c, err := loadConfig(append([]string{"--config", file}, base...), nil)
	if err != nil || len(c.UpstreamAliases) != 1 {
		t.Fatalf("upstream_aliases from the file: %v, %v", c.UpstreamAliases, err)
	}
	c, err = loadConfig(append([]string{"--config", file}, base...), []string{"DS4P_UPSTREAM_ALIASES=https://a.example/fhir, https://b.example/fhir"})
	if err != nil || strings.Join(c.UpstreamAliases, " ") != "https://a.example/fhir https://b.example/fhir" {
		t.Fatalf("DS4P_UPSTREAM_ALIASES did not override the file: %v, %v", c.UpstreamAliases, err)
	}
	opts, err := c.proxyOptions()
	if err != nil || len(opts.UpstreamAliases) != 2 || opts.UpstreamAliases[1].Host != "b.example" {
		t.Fatalf("proxy options: %v, %v", opts.UpstreamAliases, err)
	}
	for _, bad := range []string{"ehr.example.org/fhir", "ftp://ehr.example.org/fhir", "https://ehr.example.org/fhir?x=1"} {
		if _, err := loadConfig(base, []string{"DS4P_UPSTREAM_ALIASES=" + bad}); err == nil || !strings.Contains(err.Error(), "upstream_aliases") {
			t.Errorf("alias %s was accepted: %v", bad, err)
		}
	}
}

func TestUnboundTokensWarning(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a    AuthConfig
		want string
	}{
		{AuthConfig{Dev: true}, ""},
		{AuthConfig{JWKSURL: "https://idp/jwks", Issuer: "https://idp", Audience: "ds4p"}, ""},
		{AuthConfig{JWKSURL: "https://idp/jwks"}, "no issuer and audience"},
		{AuthConfig{KeyFile: "k.jwk", Issuer: "https://idp"}, "no audience"},
		{AuthConfig{KeyFile: "k.jwk", Audience: "ds4p"}, "no issuer"},
	} {
		got := unboundTokens(c.a)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.a, got, c.want)
		}
	}
}

// auth.smart_configuration is read and checked at start: a document the
// proxy would serve wrongly stops serve before anything is made.
func TestSMARTConfigurationSetting(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "smart.json")
	if err := os.WriteFile(good, []byte(`{"token_endpoint":"https://idp.example.org/token",
	  "grant_types_supported":["client_credentials"],"capabilities":["client-confidential-asymmetric"],
	  "code_challenge_methods_supported":["S256"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := defaultConfig()
	c.DataDir = dir
	c.Upstream, c.Auth.JWKSURL, c.Auth.Issuer, c.Auth.Audience = "http://ehr/fhir", "https://idp.example.org/jwks", "https://idp.example.org", "ds4p"
	c.Auth.SMARTConfiguration = good
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, err := c.proxyOptions()
	if err != nil || !strings.Contains(string(opts.SMARTConfiguration), `"issuer":"https://idp.example.org"`) {
		t.Fatalf("%v %s", err, opts.SMARTConfiguration)
	}
	for _, bad := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.json"), "cannot be read"},
		{good, "auth.issuer"}, // issuer below differs from the document's
	} {
		c := c
		c.Auth.SMARTConfiguration = bad.file
		if bad.want == "auth.issuer" {
			if err := os.WriteFile(good, []byte(`{"issuer":"https://other.example.org","token_endpoint":"https://idp.example.org/token",
			  "grant_types_supported":["client_credentials"],"capabilities":["x"],"code_challenge_methods_supported":["S256"]}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "auth.smart_configuration") || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v", bad.file, err)
		}
	}
}

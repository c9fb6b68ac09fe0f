// Package bench measures what ds4p adds to a FHIR exchange: the same
// requests sent directly to a static upstream and through the full proxy
// (labelling, policy, consent lookup, durable ledger entry), over loopback
// HTTP. Run:
//
//	go test -run '^$' -bench . -benchmem ./test/bench/
package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"go.etcd.io/bbolt"
)

// fixture is a static upstream and ds4p in front of it.
type fixture struct {
	direct, proxied string // base URLs
	token           string
	bundleBytes     int
}

// readBody is one ordinary Observation; bundle is a 1,000-entry searchset.
func newFixture(b *testing.B, durable bool) *fixture {
	b.Helper()
	bundle := synth.BenchBundle(1000, 1)
	var zipped bytes.Buffer // the searchset gzipped once, for callers that ask
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(bundle)
	_ = zw.Close()
	read := synth.BenchResources(1, 1)[0].JSON
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if r.URL.Path == "/fhir/Observation" {
			// As HAPI and Medplum do, gzip when asked (without charging
			// the compression to this process).
			if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write(zipped.Bytes())
				return
			}
			_, _ = w.Write(bundle)
			return
		}
		_, _ = w.Write(read)
	}))
	b.Cleanup(up.Close)
	dir := b.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second, NoSync: !durable})
	if err != nil {
		b.Fatal(err)
	}
	db.MaxBatchDelay = time.Millisecond
	b.Cleanup(func() { _ = db.Close() })
	cs, err := consent.Open(db)
	if err != nil {
		b.Fatal(err)
	}
	var led *audit.Ledger
	if durable {
		led, err = audit.Open(db)
	} else {
		led, err = openNoSyncLedger(db)
	}
	if err != nil {
		b.Fatal(err)
	}
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		b.Fatal(err)
	}
	tok, err := authn.MintDev(dir, authn.DevClaims{Subject: "bench", Org: "Organization/bench", Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}})
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := authn.DevPublicKeys(dir)
	ver, err := authn.NewVerifier(context.Background(), authn.Config{DevKeys: keys, Issuer: authn.DevIssuer, Audience: authn.DevAudience})
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(up.URL + "/fhir")
	srv, err := proxy.New(proxy.Options{Upstream: u}, proxy.Deps{
		Labeller: servedLabeller(), Decider: eng, Consents: cs, Ledger: led, Auth: ver,
	})
	if err != nil {
		b.Fatal(err)
	}
	px := httptest.NewServer(srv.Handler())
	b.Cleanup(px.Close)
	return &fixture{direct: up.URL + "/fhir", proxied: px.URL + "/fhir", token: tok, bundleBytes: len(bundle)}
}

// openNoSyncLedger exists because audit.Open refuses a NoSync database; the
// non-durable runs isolate the pipeline's cost from fsync.
func openNoSyncLedger(db *bbolt.DB) (*audit.Ledger, error) {
	db.NoSync = false
	l, err := audit.Open(db, audit.WithJournalSize(0)) // whose fdatasync NoSync would not skip
	db.NoSync = true
	return l, err
}

func get(b *testing.B, client *http.Client, url, token string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func run(b *testing.B, f *fixture, base, path, token string, bytes int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	get(b, client, base+path, token) // warm the connection
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		get(b, client, base+path, token)
	}
}

func BenchmarkRead(b *testing.B) {
	for _, durable := range []bool{false, true} {
		f := newFixture(b, durable)
		name := map[bool]string{false: "ledger-nosync", true: "ledger-fsync"}[durable]
		if durable {
			b.Run("direct", func(b *testing.B) { run(b, f, f.direct, "/Observation/x", "", 0) })
		}
		b.Run("ds4p/"+name, func(b *testing.B) { run(b, f, f.proxied, "/Observation/x", f.token, 0) })
	}
}

func BenchmarkBundle1000(b *testing.B) {
	for _, durable := range []bool{false, true} {
		f := newFixture(b, durable)
		name := map[bool]string{false: "ledger-nosync", true: "ledger-fsync"}[durable]
		if durable {
			b.Run("direct", func(b *testing.B) { run(b, f, f.direct, "/Observation?_count=1000", "", f.bundleBytes) })
		}
		b.Run("ds4p/"+name, func(b *testing.B) { run(b, f, f.proxied, "/Observation?_count=1000", f.token, f.bundleBytes) })
	}
}

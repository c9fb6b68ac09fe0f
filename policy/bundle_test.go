package policy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ds4p/ds4p/rego"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// bundleKeys is one RSA key pair as PEM, made once for the bundle tests.
var bundleKeys = sync.OnceValues(func() ([]byte, []byte) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
})

func verification(t *testing.T) *bundle.VerificationConfig {
	t.Helper()
	_, pub := bundleKeys()
	vc, err := NewBundleVerification(pub, "ds4p-test", "")
	if err != nil {
		t.Fatal(err)
	}
	return vc
}

func signedBundle(t *testing.T, fsys fs.FS) []byte {
	t.Helper()
	priv, _ := bundleKeys()
	b, err := BuildBundle(fsys, &BundleSigning{PrivateKeyPEM: priv, KeyID: "ds4p-test"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bundleServer serves whatever bundle is current, with an ETag of its
// content, answering 304 to a matching If-None-Match.
type bundleServer struct {
	mu         sync.Mutex
	body       []byte
	etag       string
	status     int
	requests   []string // If-None-Match of each request
	downloads  int      // bundles sent whole since set
	notChanged int      // 304s since set
}

func (s *bundleServer) set(body []byte, etag string) {
	s.mu.Lock()
	s.body, s.etag, s.status, s.downloads, s.notChanged = body, etag, http.StatusOK, 0, 0
	s.mu.Unlock()
}

func (s *bundleServer) counts() (downloads, notChanged int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads, s.notChanged
}

func (s *bundleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Header.Get("If-None-Match"))
	if s.status != http.StatusOK {
		w.WriteHeader(s.status)
		return
	}
	if s.etag != "" && r.Header.Get("If-None-Match") == s.etag {
		s.notChanged++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.downloads++
	if s.etag != "" {
		w.Header().Set("ETag", s.etag)
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(s.body)
}

// changedPolicyTree is the embedded policy with one datum changed
// (min_reason_chars 4 -> 6): another revision that loads.
func changedPolicyTree(t *testing.T) fstest.MapFS {
	t.Helper()
	changed := copyTree(t, rego.FS())
	changed["ds4p/config/data.json"].Data = bytes.Replace(changed["ds4p/config/data.json"].Data,
		[]byte(`"min_reason_chars": 4`), []byte(`"min_reason_chars": 6`), 1)
	return changed
}

// servedBundle serves the embedded policy as a signed bundle (ETag "v1")
// and returns the server, the tree fetched from it, an engine serving that
// tree and a watch polling the server as serve's does.
func servedBundle(t *testing.T) (*bundleServer, fs.FS, *Engine, *bundleWatch) {
	t.Helper()
	ctx := context.Background()
	srv := &bundleServer{}
	srv.set(signedBundle(t, rego.FS()), `"v1"`)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	src := &BundleSource{URL: hs.URL + "/bundle.tar.gz", Verification: verification(t), Schemas: rego.FS()}
	fsys, etag, err := FetchBundle(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(ctx, fsys, WithVerify(true), WithSource("bundle"))
	if err != nil {
		t.Fatal(err)
	}
	return srv, fsys, eng, &bundleWatch{e: eng, src: src, etag: etag}
}

func TestSignedBundleServesAndReloads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, fsys, eng, w := servedBundle(t)
	if _, err := fs.Stat(fsys, "ds4p/consent_test.rego"); err != nil {
		t.Fatalf("the bundle's Rego tests are missing: %v", err)
	}
	first := eng.Revision()
	d, err := eng.Decide(ctx, Input{
		Caller:  Caller{Org: "Organization/org-a", Purposes: []string{"TREAT"}},
		Request: Request{Interaction: "read", Type: "Observation"},
		Item:    Item{Type: "Observation", Labels: []string{}},
	})
	if err != nil || !d.Permitted() || d.Revision != first {
		t.Fatalf("decision from the bundle: %+v, %v", d, err)
	}

	w.poll(ctx) // not modified
	if srv.requests[len(srv.requests)-1] != `"v1"` || eng.Revision() != first {
		t.Fatalf("poll did not send If-None-Match: %v", srv.requests)
	}

	// A new signed revision (policy data changed) replaces the old one.
	changed := changedPolicyTree(t)
	srv.set(signedBundle(t, changed), `"v2"`)
	w.poll(ctx)
	if eng.Revision() == first || eng.Status().Rejected != nil {
		t.Fatalf("new bundle not loaded: %+v", eng.Status())
	}
}

func TestUnsignedBundleRefusedWhenKeyConfigured(t *testing.T) {
	t.Parallel()
	unsigned, err := BuildBundle(rego.FS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBundle(unsigned, verification(t), nil); err == nil {
		t.Fatal("an unsigned bundle was accepted with a verification key configured")
	}
	if _, err := ReadBundle(unsigned, nil, nil); err != nil {
		t.Fatalf("unsigned bundle without a key: %v", err)
	}
	// Signed with another key.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	wrong, err := BuildBundle(rego.FS(), &BundleSigning{PrivateKeyPEM: priv, KeyID: "ds4p-test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBundle(wrong, verification(t), nil); err == nil {
		t.Fatal("a bundle signed with another key was accepted")
	} else if !strings.Contains(err.Error(), "does not verify with the configured public key") {
		t.Errorf("the refusal does not say what to check: %v", err)
	}
}

func TestTamperedBundleRefused(t *testing.T) {
	t.Parallel()
	signed := signedBundle(t, rego.FS())
	if _, err := ReadBundle(signed, verification(t), nil); err != nil {
		t.Fatalf("untouched signed bundle: %v", err)
	}
	// A changed module and a changed data file: the signature's hashes no
	// longer match.
	for _, target := range []string{"/ds4p/emergency.rego", "/data.json"} {
		tampered := rewriteTar(t, signed, func(name string, b []byte) []byte {
			if name != target {
				return b
			}
			if strings.HasSuffix(name, ".rego") {
				return bytes.Replace(b, []byte("min_reason_chars"), []byte("min_reason_chars - 100"), 1)
			}
			return bytes.Replace(b, []byte(`"min_reason_chars":4`), []byte(`"min_reason_chars":1`), 1)
		})
		if bytes.Equal(tampered, signed) {
			t.Fatalf("%s: nothing was tampered with", target)
		}
		if _, err := ReadBundle(tampered, verification(t), nil); err == nil || !strings.Contains(err.Error(), "digest") && !strings.Contains(err.Error(), "hash") {
			t.Fatalf("%s: tampered bundle: %v", target, err)
		}
	}
	// An extra file the signature does not cover.
	extra := rewriteTar(t, signed, nil, "/ds4p/extra.rego", []byte("package ds4p\n\nextra := true\n"))
	if _, err := ReadBundle(extra, verification(t), nil); err == nil {
		t.Fatal("a bundle with an unsigned extra file was accepted")
	}
}

// TestBrokenBundleRejectedOldServes: a bundle that does not compile, one
// whose Rego tests fail, one whose data breaks the schema and one that
// cannot be downloaded are each rejected while the revision in force keeps
// serving and /readyz says so; a good bundle clears the rejection.
func TestBrokenBundleRejectedOldServes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := &bundleServer{}
	srv.set(signedBundle(t, rego.FS()), `"good"`)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	src := &BundleSource{URL: hs.URL, Verification: verification(t), Schemas: rego.FS()}
	fsys, etag, err := FetchBundle(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(ctx, fsys, WithVerify(true))
	if err != nil {
		t.Fatal(err)
	}
	good := eng.Revision()
	w := &bundleWatch{e: eng, src: src, etag: etag}

	noCompile := copyTree(t, rego.FS())
	noCompile["ds4p/main.rego"].Data = append(noCompile["ds4p/main.rego"].Data, []byte("\nbroken := no_such_function(1)\n")...)
	failingTest := copyTree(t, rego.FS())
	failingTest["ds4p/zz_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n\ntest_fails if false\n")}
	failingTest["ds4p/zz.rego"] = &fstest.MapFile{Data: []byte("package ds4p\n\nzz := 1\n")} // a new revision
	badData := copyTree(t, rego.FS())
	badData["ds4p/config/data.json"].Data = bytes.Replace(badData["ds4p/config/data.json"].Data,
		[]byte(`"min_reason_chars": 4`), []byte(`"min_reason_chars": 4, "surprise": true`), 1)

	for i, c := range []struct {
		name string
		body []byte
		want string
	}{
		{"does not compile", signedBundle(t, noCompile), "compiling"},
		{"fails its tests", signedBundle(t, failingTest), "test_fails"},
		{"data breaks the schema", signedBundle(t, badData), "surprise"},
		{"not a bundle", []byte("not gzip"), "bundle"},
	} {
		srv.set(c.body, `"bad`+string(rune('0'+i))+`"`)
		w.poll(ctx)
		st := eng.Status()
		if eng.Revision() != good || st.Rejected == nil || !strings.Contains(st.Rejected.Error, c.want) {
			t.Fatalf("%s: revision %s (want %s), status %+v %+v", c.name, eng.Revision(), good, st, st.Rejected)
		}
		if err := eng.ReadyCheck(ctx); err == nil || !strings.Contains(err.Error(), good) {
			t.Fatalf("%s: ReadyCheck = %v", c.name, err)
		}
		if d, err := eng.Decide(ctx, Input{Caller: Caller{Purposes: []string{"TREAT"}}, Item: Item{Type: "Observation"}}); err != nil || d.Revision != good {
			t.Fatalf("%s: the old revision does not serve: %+v, %v", c.name, d, err)
		}
	}

	srv.mu.Lock()
	srv.status = http.StatusServiceUnavailable
	srv.mu.Unlock()
	w.poll(ctx)
	if st := eng.Status(); eng.Revision() != good || st.Rejected == nil || !strings.Contains(st.Rejected.Error, "503") {
		t.Fatalf("download failure: %+v", st)
	}
	// A bundle that could not be read has no revision to name.
	if err := eng.ReadyCheck(ctx); err == nil || !strings.HasPrefix(err.Error(), "a policy change from") {
		t.Fatalf("ReadyCheck after a download failure: %v", err)
	}

	next := copyTree(t, rego.FS())
	next["ds4p/config/data.json"].Data = bytes.Replace(next["ds4p/config/data.json"].Data,
		[]byte(`"min_reason_chars": 4`), []byte(`"min_reason_chars": 5`), 1)
	srv.set(signedBundle(t, next), `"next"`)
	w.poll(ctx)
	if eng.Revision() == good || eng.Status().Rejected != nil || eng.ReadyCheck(ctx) != nil {
		st := eng.Status()
		t.Fatalf("a good bundle did not clear the rejection: %+v %+v", st, st.Rejected)
	}
}

func copyTree(t *testing.T, src fs.FS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, p)
		out[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteTar rewrites the files of a gzipped tarball with edit, and adds
// extra (name, content) pairs.
func rewriteTar(t *testing.T, gz []byte, edit func(name string, b []byte) []byte, extra ...any) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			b = edit(h.Name, b)
		}
		h.Size = int64(len(b))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(b)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		name, b := extra[i].(string), extra[i+1].([]byte)
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestVerificationKeyWithLongBase64Run: a public key whose PEM holds a run
// of more than 255 characters without a slash is a key, not a file name
// that is too long (OPA's keys.NewKeyConfig stats it first and failed on
// about one key in ten).
func TestVerificationKeyWithLongBase64Run(t *testing.T) {
	t.Parallel()
	longRun := func(p []byte) bool {
		for _, part := range strings.Split(string(p), "/") {
			if len(part) > 255 {
				return true
			}
		}
		return false
	}
	// About one 2048-bit key in ten has such a run (the loop stops at the
	// first): 40 tries found none in about one run of 70 (0.9^40), 400 leave it
	// to chance once in 10^18 runs.
	for range 400 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		if !longRun(pub) {
			continue
		}
		priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		vc, err := NewBundleVerification(pub, "long", "")
		if err != nil {
			t.Fatalf("a PEM key with a long run: %v", err)
		}
		b, err := BuildBundle(rego.FS(), &BundleSigning{PrivateKeyPEM: priv, KeyID: "long"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReadBundle(b, vc, nil); err != nil {
			t.Fatalf("a bundle signed with that key: %v", err)
		}
		return
	}
	t.Fatal("no key of 400 had a run of more than 255 characters without a slash")
}

// tarGz writes a gzipped tarball of the given entries: each has a header
// and the number of zero bytes actually written after it (which may differ
// from the size the header claims, and then the archive is truncated).
func tarGz(t *testing.T, entries []*tar.Header, content []int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	zero := make([]byte, 1<<20)
	for i, h := range entries {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		for left := content[i]; left > 0; {
			n := min(left, int64(len(zero)))
			if _, err := tw.Write(zero[:n]); err != nil {
				t.Fatal(err)
			}
			left -= n
		}
		if content[i] < h.Size { // the header lies: stop here
			_ = tw.Flush()
			break
		}
	}
	if len(entries) > 0 && content[len(content)-1] >= entries[len(entries)-1].Size {
		_ = tw.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBundleSizeBombsRefusedWithoutAllocating: OPA's tarball loader sizes
// each file's buffer by the size its tar header claims and reads every
// file before any size limit or signature check; a 136-byte bundle
// claiming a file of 1 TiB crashed the process (fatal out of memory) at
// every poll, signing key or not. ReadBundle refuses such bundles, and gzip
// bombs, from a walk of the archive that keeps nothing, quickly. Not
// parallel: it measures the bytes the process allocates.
func TestBundleSizeBombsRefusedWithoutAllocating(t *testing.T) {
	vc := verification(t)
	reg := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}
	}
	many := make([]*tar.Header, maxBundleEntries+1)
	manyContent := make([]int64, len(many))
	for i := range many {
		many[i] = reg(fmt.Sprintf("/ds4p/f%d.rego", i), 0)
	}
	for _, c := range []struct {
		name    string
		bundle  []byte
		want    string
		compact bool // the bundle itself is tiny
		// entries: its cost is one tar header per entry, bounded by the
		// count; what it allocates is not asserted (under the race
		// detector it varies by tens of MiB).
		entries bool
	}{
		// 1 GiB first: without the walk it allocates a gigabyte and fails
		// the test; 1 TiB would end the test process.
		{"a header claiming 1 GiB", tarGz(t, []*tar.Header{reg("/x.rego", 1<<30)}, []int64{0}), "claims 1073741824 bytes", true, false},
		{"a header claiming 1 TiB", tarGz(t, []*tar.Header{reg("/x.rego", 1<<40)}, []int64{0}), "claims 1099511627776 bytes", true, false},
		{"a gzip bomb of three 30 MiB files", tarGz(t,
			[]*tar.Header{reg("/a.json", 30<<20), reg("/b.json", 30<<20), reg("/c.json", 30<<20)},
			[]int64{30 << 20, 30 << 20, 30 << 20}), "more than 67108864 bytes", false, false},
		{"10,001 entries", tarGz(t, many, manyContent), "more than 10000 files", false, true},
	} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := ReadBundle(c.bundle, vc, rego.FS())
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d-byte bundle refused in %v after allocating %d KiB: %v", c.name, len(c.bundle), took, allocated>>10, err)
		if c.compact && len(c.bundle) > 1024 {
			t.Fatalf("%s: the test bundle is %d bytes", c.name, len(c.bundle))
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "refused") && !strings.Contains(err.Error(), "reading the bundle") {
			t.Fatalf("%s: ReadBundle = %v, want a refusal saying %q", c.name, err, c.want)
		}
		if allocated > 16<<20 && !c.entries {
			t.Fatalf("%s: refusing it allocated %d MiB", c.name, allocated>>20)
		}
		if took > 10*time.Second {
			t.Fatalf("%s: refusing it took %v", c.name, took)
		}
	}
}

// TestBundleUnpackedLimitConfigurable: BundleSource.MaxUnpackedBytes
// bounds what a fetched bundle decompresses to; the default policy fits the
// default bound.
func TestBundleUnpackedLimitConfigurable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := &bundleServer{}
	srv.set(signedBundle(t, rego.FS()), `"v1"`)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	src := &BundleSource{URL: hs.URL, Verification: verification(t), Schemas: rego.FS(), MaxUnpackedBytes: 4 << 10}
	if _, _, err := FetchBundle(ctx, src); err == nil || !strings.Contains(err.Error(), "more than 4096 bytes") {
		t.Fatalf("a bundle larger than MaxUnpackedBytes: %v", err)
	}
	src.MaxUnpackedBytes = 0
	if _, _, err := FetchBundle(ctx, src); err != nil {
		t.Fatalf("the default policy under the default bound: %v", err)
	}
}

// TestStartupBundle304IsAnError: a server answering 304 Not Modified to
// the first request (which names no bundle) sent nothing; FetchBundle
// returned a nil tree without an error, and serve panicked loading it.
func TestStartupBundle304IsAnError(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	}))
	t.Cleanup(hs.Close)
	src := &BundleSource{URL: hs.URL, Verification: verification(t)}
	fsys, _, err := FetchBundle(context.Background(), src)
	if err == nil || fsys != nil || !strings.Contains(err.Error(), "304") {
		t.Fatalf("FetchBundle after a 304 to a first request = %v, %v; want an error", fsys, err)
	}
}

// TestBundleRetriedWhenOnlyTestsAreFixed: from a server without ETags, a
// bundle rejected because a Rego test failed is loaded once its tests alone
// are fixed; the watcher remembered the failed bundle by its revision,
// which leaves tests out, and never attempted the corrected one.
func TestBundleRetriedWhenOnlyTestsAreFixed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := &bundleServer{}
	srv.set(signedBundle(t, rego.FS()), "")
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	src := &BundleSource{URL: hs.URL, Verification: verification(t), Schemas: rego.FS()}
	fsys, etag, err := FetchBundle(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(ctx, fsys, WithVerify(true))
	if err != nil {
		t.Fatal(err)
	}
	good := eng.Revision()
	w := &bundleWatch{e: eng, src: src, etag: etag}
	tree := copyTree(t, rego.FS())
	tree["ds4p/zz.rego"] = &fstest.MapFile{Data: []byte("package ds4p\n\nzz := 1\n")}
	tree["ds4p/zz_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n\ntest_zz if data.ds4p.zz == 2\n")}
	srv.set(signedBundle(t, tree), "")
	w.poll(ctx)
	if eng.Revision() != good || eng.Status().Rejected == nil {
		t.Fatalf("a failing test: revision %s, status %+v", eng.Revision(), eng.Status())
	}
	tree["ds4p/zz_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n\ntest_zz if data.ds4p.zz == 1\n")}
	srv.set(signedBundle(t, tree), "")
	w.poll(ctx)
	if eng.Revision() == good || eng.Status().Rejected != nil {
		t.Fatalf("the bundle with its test fixed was not loaded: revision %s, rejected %+v", eng.Revision(), eng.Status().Rejected)
	}
}

// TestLoadWithoutTreeIsAnError: the engine given no policy tree (what
// FetchBundle returned after a 304 at start) panicked with a nil pointer;
// it is a rejection.
func TestLoadWithoutTreeIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := New(context.Background(), nil, WithVerify(true)); err == nil || !strings.Contains(err.Error(), "no policy tree") {
		t.Fatalf("New without a tree: %v", err)
	}
}

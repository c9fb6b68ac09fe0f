package policy

import (
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/rego"
)

// ageSource serves bundles and returns a source with a high-water mark
// kept at mark, and the server.
func ageSource(t *testing.T, mark string) (*bundleServer, *BundleSource) {
	t.Helper()
	srv := &bundleServer{}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	hw, err := OpenBundleHighWater(mark)
	if err != nil {
		t.Fatal(err)
	}
	return srv, &BundleSource{URL: hs.URL + "/bundle.tar.gz", Verification: verification(t), Schemas: rego.FS(), Newest: hw}
}

func builtBundle(t *testing.T, changed bool, at time.Time) []byte {
	t.Helper()
	priv, _ := bundleKeys()
	var tree fs.FS = rego.FS()
	if changed {
		tree = changedPolicyTree(t)
	}
	b, err := buildBundleAt(tree, &BundleSigning{PrivateKeyPEM: priv, KeyID: "ds4p-test"}, at)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplayedOlderBundleRefused: a signed bundle built before the one in
// force is refused, in a poll and at a restart, while the newer revision
// keeps serving; a bundle built later loads.
func TestReplayedOlderBundleRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mark := filepath.Join(t.TempDir(), "policy-bundle-built-at")
	t1 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	t2, t3 := t1.Add(time.Hour), t1.Add(2*time.Hour)
	older := builtBundle(t, false, t1)
	newer := builtBundle(t, true, t2)

	srv, src := ageSource(t, mark)
	srv.set(older, `"v1"`)
	fsys, etag, err := FetchBundle(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(ctx, fsys, WithSource("bundle")) // the age check is the fetch's, verified or not
	if err != nil {
		t.Fatal(err)
	}
	w := &bundleWatch{e: eng, src: src, etag: etag}
	w.loaded(src.startAge) // as WatchBundle does first
	if got := src.Newest.Newest(); !got.Equal(t1) {
		t.Fatalf("newest after start %v, want %v", got, t1)
	}

	srv.set(newer, `"v2"`)
	w.poll(ctx)
	rev2 := eng.Revision()
	if eng.Status().Rejected != nil || !src.Newest.Newest().Equal(t2) {
		t.Fatalf("the newer bundle did not load: %+v, newest %v", eng.Status().Rejected, src.Newest.Newest())
	}
	if raw, err := os.ReadFile(mark); err != nil || strings.TrimSpace(string(raw)) != t2.Format(time.RFC3339Nano) {
		t.Fatalf("mark file %q, %v", raw, err)
	}

	// The older bundle served again (a replay): refused, the newer serves.
	srv.set(older, `"v1-again"`)
	w.poll(ctx)
	st := eng.Status()
	if eng.Revision() != rev2 || st.Rejected == nil || !strings.Contains(st.Rejected.Error, "before the bundle already loaded") {
		t.Fatalf("replayed bundle: revision %s (want %s), rejection %+v", eng.Revision(), rev2, st.Rejected)
	}
	// Refused whole: not downloaded again while the server says 304.
	w.poll(ctx)
	if d, nc := srv.counts(); d != 1 || nc != 1 {
		t.Errorf("after the refusal: %d downloads, %d not modified; want 1 and 1", d, nc)
	}

	// A restart with the older bundle still served: refused at start.
	_, src2 := ageSource(t, mark)
	srv2 := &bundleServer{}
	srv2.set(older, `"v1"`)
	hs := httptest.NewServer(srv2)
	t.Cleanup(hs.Close)
	src2.URL = hs.URL + "/bundle.tar.gz"
	if _, _, err := FetchBundle(ctx, src2); err == nil || !strings.Contains(err.Error(), "before the bundle already loaded") {
		t.Fatalf("restart with the older bundle: %v", err)
	}

	// Built again later (a roll back done right): loads.
	srv.set(builtBundle(t, false, t3), `"v3"`)
	w.poll(ctx)
	if eng.Revision() == rev2 || eng.Status().Rejected != nil || !src.Newest.Newest().Equal(t3) {
		t.Fatalf("rebuilt bundle: revision %s, rejection %+v", eng.Revision(), eng.Status().Rejected)
	}
}

// TestBundleWithoutBuildTime: an `opa build` bundle (no build time) loads
// while no bundle with one has; after one has, it is refused, as a replay
// of an older bundle would look the same.
func TestBundleWithoutBuildTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := builtBundle(t, false, time.Time{}) // as `opa build` signs: no build time

	srv, src := ageSource(t, filepath.Join(t.TempDir(), "mark"))
	srv.set(b, `"a"`)
	if _, _, err := FetchBundle(ctx, src); err != nil {
		t.Fatalf("a bundle without a build time, none loaded before: %v", err)
	}
	if err := src.Newest.raise(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FetchBundle(ctx, src); err == nil || !strings.Contains(err.Error(), "carries no build time") {
		t.Fatalf("a bundle without a build time after one with: %v", err)
	}
	// Unsigned sources compare nothing: the age proves nothing there.
	src.Verification = nil
	if _, _, err := FetchBundle(ctx, src); err != nil {
		t.Fatalf("unsigned source: %v", err)
	}
}

// TestBundleBuildTimeIsSigned: the build time cannot be moved forward
// without the key: the manifest is covered by the signature.
func TestBundleBuildTimeIsSigned(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	b := builtBundle(t, false, at)
	edited := rewriteTar(t, b, func(name string, body []byte) []byte {
		if strings.HasSuffix(name, ".manifest") {
			return []byte(strings.Replace(string(body), "2026-11-01", "2027-11-01", 1))
		}
		return body
	})
	if _, err := ReadBundle(edited, verification(t), rego.FS()); err == nil {
		t.Fatal("a bundle whose build time was edited verified")
	}
	if _, age, err := readBundle(b, verification(t), rego.FS(), 0); err != nil || !age.has || !age.at.Equal(at) {
		t.Fatalf("build time read back: %+v, %v", age, err)
	}
}

// TestBundleHighWaterFile: a mark file that holds no time stops the start
// rather than forgetting which bundles are older.
func TestBundleHighWaterFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "mark")
	if err := os.WriteFile(p, []byte("yesterday\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBundleHighWater(p); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("unreadable mark: %v", err)
	}
}

// TestBundleBuiltInTheFutureWaits: a bundle built well ahead of the
// proxy's clock (a build machine's clock set wrong) is refused, and asked
// for again at the next poll rather than remembered as refused: loaded,
// its time would have become the newest and refused every bundle built
// correctly after it. One built a little ahead (clock skew) loads.
func TestBundleBuiltInTheFutureWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, src := ageSource(t, filepath.Join(t.TempDir(), "mark"))
	srv.set(builtBundle(t, false, time.Now().Add(24*time.Hour)), `"future"`)
	if _, _, err := FetchBundle(ctx, src); err == nil || !strings.Contains(err.Error(), "ahead of this proxy's clock") {
		t.Fatalf("a bundle built a day ahead: %v", err)
	}
	f, err := src.fetch(ctx, "", [32]byte{})
	if err == nil || f.etag != "" || f.digest != ([32]byte{}) {
		t.Fatalf("refused as a whole bundle would be (never asked for again): %+v, %v", f, err)
	}
	if !src.Newest.Newest().IsZero() {
		t.Fatalf("the future build time was kept: %v", src.Newest.Newest())
	}
	srv.set(builtBundle(t, false, time.Now().Add(time.Minute)), `"skew"`)
	if _, _, err := FetchBundle(ctx, src); err != nil {
		t.Fatalf("a bundle built a minute ahead: %v", err)
	}
}

// TestAllowOlderMarkFollowsTheBundleInForce: with bundle_allow_older the
// mark refuses nothing and holds the build time of the bundle serving, an
// older one included, so that turning the comparison on again compares
// with the bundle rolled back to; a bundle without a build time removes
// it, and a file that holds no time is written over rather than stopping
// the start.
func TestAllowOlderMarkFollowsTheBundleInForce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mark := filepath.Join(t.TempDir(), "policy-bundle-built-at")
	t1 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	if err := os.WriteFile(mark, []byte(t2.Format(time.RFC3339Nano)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, src := ageSource(t, "")
	src.Newest = OpenBundleMarkFollowing(mark)
	srv.set(builtBundle(t, false, t1), `"older"`)
	fsys, etag, err := FetchBundle(ctx, src)
	if err != nil {
		t.Fatalf("an older bundle with bundle_allow_older: %v", err)
	}
	eng, err := New(ctx, fsys, WithSource("bundle"))
	if err != nil {
		t.Fatal(err)
	}
	w := &bundleWatch{e: eng, src: src, etag: etag}
	w.loaded(src.startAge)
	readMark := func() string {
		raw, err := os.ReadFile(mark)
		if errors.Is(err, os.ErrNotExist) {
			return "none"
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(raw))
	}
	if got := readMark(); got != t1.Format(time.RFC3339Nano) {
		t.Fatalf("mark after rolling back to t1: %s", got)
	}
	// The option turned off again: the bundle rolled back to loads, an
	// older one is refused.
	hw, err := OpenBundleHighWater(mark)
	if err != nil {
		t.Fatal(err)
	}
	if err := hw.check(t1, true); err != nil {
		t.Fatalf("the bundle in force, the option off: %v", err)
	}
	if err := hw.check(t1.Add(-time.Minute), true); err == nil {
		t.Fatal("an older bundle loaded with the option off")
	}
	// A bundle without a build time loads and removes the mark.
	srv.set(builtBundle(t, true, time.Time{}), `"no-time"`)
	w.poll(ctx)
	if eng.Status().Rejected != nil {
		t.Fatalf("a bundle without a build time: %+v", eng.Status().Rejected)
	}
	if got := readMark(); got != "none" {
		t.Fatalf("mark after a bundle without a build time: %s", got)
	}
	// A file that holds no time does not stop the start; it is written over.
	if err := os.WriteFile(mark, []byte("yesterday\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := OpenBundleMarkFollowing(mark)
	if err := h.raise(t2); err != nil {
		t.Fatal(err)
	}
	if got := readMark(); got != t2.Format(time.RFC3339Nano) {
		t.Fatalf("an unreadable mark was not written over: %s", got)
	}
}

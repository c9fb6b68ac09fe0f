package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBuildTimeKeptAfterAFailedWriteQA29E: the newest build time is kept
// in memory when its file cannot be written (a full disk, a data
// directory not writable for a moment), but it was never written later:
// raise wrote only a later time, so while the same bundle served the file
// kept the older one, and a restart took back every bundle built between
// them (a replay). Each poll now tries the write again.
func TestBuildTimeKeptAfterAFailedWriteQA29E(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data") // not there yet: the write fails
	mark := filepath.Join(dir, "policy-bundle-built-at")
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	srv, src := ageSource(t, mark)
	srv.set(builtBundle(t, false, at), `"v1"`)
	fsys, etag, err := FetchBundle(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := New(ctx, fsys, WithSource("bundle"))
	if err != nil {
		t.Fatal(err)
	}
	w := &bundleWatch{e: eng, src: src, etag: etag}
	w.loaded(src.startAge) // the write fails
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	w.poll(ctx) // the same bundle: 304
	hw, err := OpenBundleHighWater(mark)
	if err != nil {
		t.Fatal(err)
	}
	if !hw.Newest().Equal(at) {
		t.Errorf("after the data directory came back and a poll, the file holds %v, want %v (a restart would take back older bundles)", hw.Newest(), at)
	}
}

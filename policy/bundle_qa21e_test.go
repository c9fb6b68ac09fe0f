package policy

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// TestBadSignatureBundleNotFetchedAgain: a bundle whose signature does not
// verify was fetched whole, checked and refused again at every poll (its
// ETag was dropped with every bundle that did not read, so that a download
// cut short is retried). A bundle refused whole keeps its ETag: the next
// polls are answered 304, the refusal stands in Status (readyz) while the
// last good revision serves, and a changed bundle loads. From a server
// without ETags the same bytes are not read again.
func TestBadSignatureBundleNotFetchedAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _, eng, w := servedBundle(t)
	good := eng.Revision()

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	changed := changedPolicyTree(t)
	wrongKey, err := BuildBundle(changed, &BundleSigning{PrivateKeyPEM: otherPEM, KeyID: "ds4p-test"})
	if err != nil {
		t.Fatal(err)
	}

	refused := func(when string) {
		t.Helper()
		st := eng.Status()
		if eng.Revision() != good || st.Rejected == nil || !strings.Contains(st.Rejected.Error, "does not verify") {
			t.Fatalf("%s: revision %s (want %s), rejection %+v", when, eng.Revision(), good, st.Rejected)
		}
	}
	srv.set(wrongKey, `"bad"`)
	for range 4 {
		w.poll(ctx)
		refused("bad signature, ETag")
	}
	if d, nc := srv.counts(); d != 1 || nc != 3 {
		t.Errorf("a refused bundle with an ETag: %d whole downloads and %d 304s in 4 polls, want 1 and 3", d, nc)
	}

	// From a server without ETags it is downloaded at each poll (nothing
	// else can tell it has not changed), but read and checked once.
	srv.set(wrongKey, "")
	w.poll(ctx)
	refused("bad signature, no ETag")
	at := eng.Status().Rejected.At
	w.poll(ctx)
	w.poll(ctx)
	refused("bad signature, no ETag, again")
	if d, _ := srv.counts(); d != 3 {
		t.Errorf("%d downloads in 3 polls without ETag, want 3", d)
	}
	if got := eng.Status().Rejected.At; !got.Equal(at) {
		t.Errorf("the same refused bytes were refused again (at %v, then %v)", at, got)
	}
	if f, err := w.src.fetch(ctx, "", w.failedDigest); err != nil || !f.unchanged {
		t.Errorf("the same refused bytes were read again: %+v, %v", f, err)
	}

	// A bundle that changes is fetched and loads.
	srv.set(signedBundle(t, changed), `"v2"`)
	w.poll(ctx)
	if eng.Revision() == good || eng.Status().Rejected != nil {
		t.Fatalf("the changed bundle did not load: revision %s, rejection %+v", eng.Revision(), eng.Status().Rejected)
	}
	if w.failedDigest != ([32]byte{}) {
		t.Error("the refused digest outlived a good bundle")
	}
}

// TestCutBundleStillRetriedWithoutETag: a download cut short (a body ended
// early on a connection without Content-Length) anywhere
// before the end of its compressed files is not whole, so, refused, it
// keeps no ETag and the whole bundle is fetched at the next poll, as
// before bundles refused whole kept theirs.
func TestCutBundleStillRetriedWithoutETag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _, eng, w := servedBundle(t)
	first := eng.Revision()
	changed := changedPolicyTree(t)
	whole := signedBundle(t, changed)
	for _, cut := range []int{len(whole) / 4, len(whole) / 2, len(whole) * 3 / 4, len(whole) - 20} {
		srv.set(whole[:cut], `"v2"`)
		w.poll(ctx)
		if eng.Revision() != first || eng.Status().Rejected == nil {
			t.Fatalf("cut at %d of %d: revision %s, status %+v", cut, len(whole), eng.Revision(), eng.Status())
		}
		if w.etag == `"v2"` {
			t.Fatalf("cut at %d of %d: the ETag of a bundle that was not whole was kept", cut, len(whole))
		}
	}
	srv.set(whole, `"v2"`)
	w.poll(ctx)
	if eng.Revision() == first || eng.Status().Rejected != nil {
		t.Fatalf("the whole bundle was not fetched again (requests %q): status %+v", srv.requests, eng.Status())
	}
}

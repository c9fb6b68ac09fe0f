package policy

import (
	"bytes"
	"context"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestCutBundleRetried: a bundle whose download was cut short (a body
// ended early on a connection without Content-Length) fails to read; its
// ETag was kept all the same, so every later poll sent If-None-Match, was
// answered 304, and the good bundle the server held under that ETag never
// loaded until it changed (QA round 20). A bundle that did not read is
// fetched whole at the next poll.
func TestCutBundleRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _, eng, w := servedBundle(t)
	first := eng.Revision()

	changed := copyTree(t, rego.FS())
	changed["ds4p/config/data.json"].Data = bytes.Replace(changed["ds4p/config/data.json"].Data,
		[]byte(`"min_reason_chars": 4`), []byte(`"min_reason_chars": 6`), 1)
	whole := signedBundle(t, changed)
	srv.set(whole[:len(whole)/2], `"v2"`) // the download cut short
	w.poll(ctx)
	if eng.Revision() != first || eng.Status().Rejected == nil {
		t.Fatalf("a cut bundle: revision %s, status %+v", eng.Revision(), eng.Status())
	}
	srv.set(whole, `"v2"`) // the same bundle, whole
	w.poll(ctx)
	if eng.Revision() == first || eng.Status().Rejected != nil {
		t.Fatalf("the whole bundle was not fetched again (requests %q): status %+v", srv.requests, eng.Status())
	}
}

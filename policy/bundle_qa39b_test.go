package policy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/rego"
)

// TestBundleOutageClearedBy304QA39B: a poll that cannot download the
// bundle (the server answers 503, or cannot be reached) is reported in
// Status and /readyz while the revision in force serves. When the server
// is back and answers 304 to the ETag of the bundle in force, it holds
// that bundle: the outage is over, and /readyz must not keep reporting it
// until a new bundle happens to be published. A 304 to the ETag of a
// bundle that was refused (its signature, its Rego tests) keeps its
// refusal.
func TestBundleOutageClearedBy304QA39B(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, _, eng, w := servedBundle(t)
	w.servingETag = w.etag // as WatchBundle starts it
	good := eng.Revision()
	setStatus := func(code int) {
		srv.mu.Lock()
		srv.status = code
		srv.mu.Unlock()
	}
	setStatus(http.StatusServiceUnavailable)
	w.poll(ctx)
	if st := eng.Status(); st.Rejected == nil || !strings.Contains(st.Rejected.Error, "503") {
		t.Fatalf("the outage is not reported: %+v", st.Rejected)
	}
	setStatus(http.StatusOK)
	w.poll(ctx)
	if _, notChanged := srv.counts(); notChanged != 1 {
		t.Fatalf("the server answered %d 304s, want 1", notChanged)
	}
	if st := eng.Status(); eng.Revision() != good || st.Rejected != nil || eng.ReadyCheck(ctx) != nil {
		t.Fatalf("the bundle server is back with the bundle in force, yet /readyz reports %v (rejection %+v)", eng.ReadyCheck(ctx), st.Rejected)
	}
	setStatus(http.StatusBadGateway)
	w.poll(ctx)
	if st := eng.Status(); st.Rejected == nil || !strings.Contains(st.Rejected.Error, "502") {
		t.Fatalf("a second outage is not reported: %+v", st.Rejected)
	}

	// A refused bundle's 304 keeps its refusal, before and after an outage.
	failingTest := copyTree(t, rego.FS())
	failingTest["ds4p/zz_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n\ntest_fails if false\n")}
	failingTest["ds4p/zz.rego"] = &fstest.MapFile{Data: []byte("package ds4p\n\nzz := 1\n")}
	unsigned, err := BuildBundle(changedPolicyTree(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, etag, want string
		body             []byte
	}{
		{"failing Rego test", `"tests"`, "test_fails", signedBundle(t, failingTest)},
		{"unsigned", `"unsigned"`, "signatures", unsigned},
	} {
		srv.set(c.body, c.etag)
		for i := range 3 {
			w.poll(ctx)
			if st := eng.Status(); eng.Revision() != good || st.Rejected == nil || !strings.Contains(st.Rejected.Error, c.want) {
				t.Fatalf("%s, poll %d: revision %s, rejection %+v", c.name, i, eng.Revision(), st.Rejected)
			}
		}
	}
}

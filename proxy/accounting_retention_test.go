package proxy

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// Entries pruned before the minimum retention ended: the accounting says
// it cannot be given complete instead of answering without them; with the
// retention unknown (0) it answers from the checkpoint on, as before.
func TestAccountingRefusedAfterAnEarlyPrune(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		keep time.Duration
		want int
	}{{"six years kept", 6 * 365 * audit.Day, http.StatusInternalServerError}, {"retention not set", 0, http.StatusOK}} {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		l, err := audit.Open(db, audit.WithMinRetention(c.keep))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 12; i++ {
			if err := l.Append(t.Context(), seededEntry(i)); err != nil {
				t.Fatal(err)
			}
		}
		// Pruned at one month, though six years are to be kept.
		if _, err := l.Prune(t.Context(), auditT0.Add(5*time.Minute+time.Second), t.TempDir()); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
		resp, body := h.get("/admin/audit/accounting?patient=Patient/p1", tokAdmin)
		if resp.StatusCode != c.want {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		if c.want != http.StatusOK && (!strings.Contains(body, "minimum retention") || !strings.Contains(body, "OperationOutcome")) {
			t.Errorf("%s: the refusal does not say why: %s", c.name, body)
		}
	}
}

package proxy

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// TestAuditListingSaysThePruneCheckpointIsNotReliedOnQA42I (QA round 42,
// helper I): after entries were pruned before the minimum retention ended
// (or by someone without the storage key, an unauthenticated checkpoint),
// the accounting refuses (500, "minimum retention"), but GET /admin/audit
// reported the checkpoint's time, seq and export file as plain fact, the
// note an auditor reads as "they are in those files": nothing said that
// the checkpoint is not relied on, and its export name is whatever the
// database says (53ad9d8). The note now says it is not relied on, and why,
// and names no export; a trusted one is marked relied on.
func TestAuditListingSaysThePruneCheckpointIsNotReliedOnQA42I(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		keep    time.Duration
		trusted bool
	}{{"pruned before the minimum retention", 6 * 365 * audit.Day, false}, {"retention not set", 0, true}} {
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
		if _, err := l.Prune(t.Context(), auditT0.Add(5*time.Minute+time.Second), t.TempDir()); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
		resp, body := h.get("/admin/audit?patient=Patient/p1", tokAdmin)
		if resp.StatusCode != 200 || resp.Header.Get("X-DS4P-Pruned-Through") == "" {
			t.Fatalf("%s: %d %v %.300s", c.name, resp.StatusCode, resp.Header, body)
		}
		var out struct {
			Pruned struct {
				ReliedOn *bool  `json:"relied_on"`
				Why      string `json:"why"`
				Export   string `json:"export"`
				Note     string `json:"note"`
			} `json:"pruned"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		p := out.Pruned
		if p.ReliedOn == nil || *p.ReliedOn != c.trusted {
			t.Errorf("%s: the pruned note does not say whether the checkpoint is relied on (want %v): %.500s", c.name, c.trusted, body)
		}
		if !c.trusted && (p.Why == "" || p.Export != "") {
			t.Errorf("%s: an untrusted checkpoint's note gives no reason or names its export %q: %.500s", c.name, p.Export, body)
		}
		if c.trusted && (p.Why != "" || p.Export == "") {
			t.Errorf("%s: a trusted checkpoint's note: %.500s", c.name, body)
		}
	}
}

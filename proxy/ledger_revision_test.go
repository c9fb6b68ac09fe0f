package proxy

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// reloadingDecider is the real engine with a policy reload landing right
// after the first decision of a response (as a policy_dir change picked up
// by WatchDir may).
type reloadingDecider struct {
	*policy.Engine
	mu   sync.Mutex
	once sync.Once
	next fs.FS
	seen []string
}

func (d *reloadingDecider) Decide(ctx context.Context, in policy.Input) (policy.Decision, error) {
	dec, err := d.Engine.Decide(ctx, in)
	d.mu.Lock()
	d.seen = append(d.seen, dec.Revision)
	d.mu.Unlock()
	d.once.Do(func() {
		// A reload runs on its own (WatchDir's goroutine), not under the
		// request's deadline: compiling the policy under the race detector
		// on a loaded machine took longer than the harness's 2 s.
		if lerr := d.Engine.Load(context.Background(), d.next); lerr != nil {
			err = lerr
		}
	})
	return dec, err
}

// newReloadingDecider loads the default policy and reloads it with a
// changed datum (another revision) after the first decision.
func newReloadingDecider(t *testing.T) *reloadingDecider {
	t.Helper()
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	next := fstest.MapFS{}
	if err := fs.WalkDir(rego.FS(), ".", func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			b, rerr := fs.ReadFile(rego.FS(), p)
			next[p] = &fstest.MapFile{Data: b}
			return rerr
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	data := next["ds4p/config/data.json"]
	changed := bytes.Replace(data.Data, []byte(`"min_reason_chars": 4`), []byte(`"min_reason_chars": 9`), 1)
	if bytes.Equal(changed, data.Data) {
		t.Fatal("the policy data has no min_reason_chars to change")
	}
	data.Data = changed
	return &reloadingDecider{Engine: eng, next: next}
}

// TestLedgerNamesTheRevisionThatDecided: the ledger entry of a response
// names the policy revision of its decisions, not the one in force when
// it is recorded; a response decided partly before and partly after a
// reload names both, in the order used. QA round 16: a reload during the
// response recorded the new revision for a disclosure the old one decided.
func TestLedgerNamesTheRevisionThatDecided(t *testing.T) {
	t.Parallel()
	t.Run("one decision", func(t *testing.T) {
		rd := newReloadingDecider(t)
		h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Decider = rd })
		if resp, body := h.get("/fhir/Observation/bp1", tokConsented); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if len(rd.seen) != 1 || rd.seen[0] == rd.Revision() {
			t.Fatalf("decided by %v, now %s: the reload did not land", rd.seen, rd.Revision())
		}
		if len(h.ledger.entries) != 1 || h.ledger.entries[0].PolicyRevision != rd.seen[0] {
			t.Fatalf("ledger %+v, want revision %s", h.ledger.entries, rd.seen[0])
		}
	})
	t.Run("two revisions", func(t *testing.T) {
		rd := newReloadingDecider(t)
		var h *harness
		h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			fhirJSONHandler(200, bundle(h.base(), 2, false, bpObs, sudCondition))(w, r)
		}, func(_ *Options, d *Deps) { d.Decider = rd })
		if resp, body := h.get("/fhir/Condition?subject=p1", tokConsented); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if len(rd.seen) < 2 || rd.seen[0] == rd.seen[len(rd.seen)-1] {
			t.Fatalf("decided by %v", rd.seen)
		}
		want := rd.seen[0] + "," + rd.seen[len(rd.seen)-1]
		if len(h.ledger.entries) != 1 || h.ledger.entries[0].PolicyRevision != want {
			t.Fatalf("ledger %+v, want revisions %s", h.ledger.entries, want)
		}
	})
	t.Run("simulation", func(t *testing.T) {
		rd := newReloadingDecider(t)
		h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Decider = rd })
		resp, body := h.post("/admin/decide", tokAdmin, `{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},"query":"Observation/bp1"}`)
		if resp.StatusCode != 200 || !strings.Contains(body, `"policy_revision":"`+rd.seen[0]+`"`) {
			t.Fatalf("%d %s, want revision %s", resp.StatusCode, body, rd.seen[0])
		}
		if len(h.ledger.entries) != 1 || h.ledger.entries[0].PolicyRevision != rd.seen[0] {
			t.Fatalf("ledger %+v, want revision %s", h.ledger.entries, rd.seen[0])
		}
	})
}

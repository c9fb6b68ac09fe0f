package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSyncHistoryCutShortReadsAllQA31C: a Consent type history that
// answers fewer entries than it says it holds (Bundle.total), with no next
// link to the rest (a server capping the page and dropping the link), can
// leave out the deletion of a permit. Before 238c6b5 the round took the
// entries it got as all there were and kept the deleted permit disclosing
// until the next full round (checked at ce70c92, and on HEAD with
// upstreamConsentsMissing answering none missing); since then the
// Consent?_id= presence check reads the permit the history left out, finds
// it gone and drops it. A guard: no change in behaviour (QA round 31,
// area C).
func TestSyncHistoryCutShortReadsAllQA31C(t *testing.T) {
	t.Parallel()
	f := newHistoryFHIR()
	u, sc := newHistorySetup(t, f)
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/R4/Consent/_history" {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		var b map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
			t.Error(err)
			return
		}
		entries := asList(b["entry"])
		b["total"] = len(entries)
		b["entry"] = entries[:min(len(entries), 1)] // the newest alone, and no next link
		delete(b, "link")
		out, _ := json.Marshal(b)
		f.answer(w, http.StatusOK, string(out))
	})
	f.put("u1", upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	f.put("u2", upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b"))
	var since time.Time
	round := 0
	bg := context.Background()
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("consented: %d, want 200", code)
	}
	f.del("u1", "")
	f.put("u2", upstreamConsent("u2", "2", "2026-01-01T00:00:00Z", "Organization/org-b")) // newer than the deletion
	if err := sc.syncRound(bg, &since, &round); err != nil {                              // incremental
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the upstream deleted the permit and a round ran on a history cut short: %d, want 404", code)
	}
}

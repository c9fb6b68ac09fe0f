package proxy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// TestSyncMRNMovedOldStoreQA34E (for a663c00, whose diff lacked its test):
// a bbolt file written before 7e1a2cf holds a consent named by MRN alone
// with the reference its round filled in, which resume cannot tell from
// a consent naming its patient by both. Resumed by an incremental round,
// a permit whose MRN had moved stayed the old Patient's until the next full
// round; such a file now makes the first round a full one (round 0). A
// file with neither form, or with the identifier alone as stored since,
// resumes incrementally.
func TestSyncMRNMovedOldStoreQA34E(t *testing.T) {
	t.Parallel()
	const ref = `"patient":{"reference":"Patient/p1"}`
	permit := upstreamConsent("u3", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	if !strings.Contains(permit, ref) {
		t.Fatal("upstreamConsent changed")
	}
	for _, c := range []struct {
		name, json string
		round      int
	}{
		{"reference and MRN (a file before 7e1a2cf)", strings.Replace(permit, ref, `"patient":{"reference":"Patient/p1","identifier":{"system":"urn:mrn","value":"123"}}`, 1), 0},
		{"MRN alone", strings.Replace(permit, ref, `"patient":{"identifier":{"system":"urn:mrn","value":"123"}}`, 1), 1},
		{"reference alone", permit, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := ConsentSources{Upstream: UpstreamSync, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"}
			u := newUpstreamSetup(t, cfg)
			ctx := context.Background()
			err := u.store.Mirror().Apply(ctx, []consent.MirrorEntry{{ID: "u3", Patient: "Patient/p1", JSON: []byte(c.json)}}, true, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			since, round := u.restarted(t, cfg).resume(ctx)
			if round != c.round || since.IsZero() {
				t.Errorf("resume: round %d since %v, want round %d (0: a full first round) from the stored time", round, since, c.round)
			}
		})
	}
}

package proxy

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestReadyzWaitsForConsentSync: with consents.upstream sync, /readyz
// reports the consent_sync check failing until the first round succeeds.
func TestReadyzWaitsForConsentSync(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	check := func() string {
		_, body := u.get("/readyz", "")
		var r struct {
			Checks map[string]struct{ Status string } `json:"checks"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("readyz: %v %s", err, body)
		}
		return r.Checks["consent_sync"].Status
	}
	if got := check(); got != "fail" {
		t.Fatalf("before the first sync: consent_sync %q, want fail", got)
	}
	sc := u.server.consents.(*sourcedConsents)
	if err := sc.syncOnce(context.Background(), time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if got := check(); got != "pass" {
		t.Fatalf("after the first sync: consent_sync %q, want pass", got)
	}
}

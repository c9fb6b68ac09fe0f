package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMergeGatewayDateAheadQA32A: the Date that measures the upstream's
// clock may be a gateway's (nginx in front of the FHIR server sets its
// own). A gateway a minute ahead of the FHIR server, whose clock agrees
// with the proxy's, made the merge read the EHR's revocation, stored 20 s
// after the local permit, as 40 s before it: the local permit won, and
// org-a read the SUD condition the patient had revoked its access to, on
// demand and in sync mode. fcf0e50 tells a gateway behind the server by a
// stamp past the Date; one ahead is told by nothing, so copies that the
// Date's clock and agreeing clocks order differently are in doubt.
func TestMergeGatewayDateAheadQA32A(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetupStoredAgo(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour}, 40*time.Second)
			skewUpstream(u, time.Minute) // the gateway's Date; the server's stamps are by the proxy's clock
			local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1),
				`"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
			rec, err := u.store.Put(context.Background(), []byte(local))
			if err != nil {
				t.Fatal(err)
			}
			up := upstreamConsent("c1", "5", rec.Updated.Add(20*time.Second).UTC().Format("2006-01-02T15:04:05.000Z"), "Organization/org-a")
			up = strings.Replace(up, `"status":"active"`, `"status":"inactive"`, 1)
			u.fhir.set(http.StatusOK, up)
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if got := u.read(tokConsented); got != http.StatusNotFound {
				t.Errorf("org-a: %d, want 404 (the EHR revoked the consent after the local copy)", got)
			}
		})
	}
}

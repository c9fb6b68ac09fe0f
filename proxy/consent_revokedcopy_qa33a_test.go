package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRevokedCopyBesideAnOlderActiveCopyQA33A: ds4p holds consent c1
// permitting org-a (with Consent.identifier urn:consents|42); the EHR holds
// it twice, as c1 and as c0 (the same identifier, stored long before), and
// the patient's revocation reached c1 alone, 20 s after the local copy was
// stored. With c1 alone the revocation wins; beside c0, found first, it
// was read as an inactive consent of its own and the local permit, later
// than c0, won whole: org-a read the SUD condition, on demand and in sync
// mode.
func TestRevokedCopyBesideAnOlderActiveCopyQA33A(t *testing.T) {
	t.Parallel()
	const ident = `"identifier":[{"system":"urn:consents","value":"42"}],`
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		for _, twice := range []bool{false, true} {
			name := mode + "/revoked copy alone"
			if twice {
				name = mode + "/revoked copy beside an older active one"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				u := newUpstreamSetupStoredAgo(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour}, 40*time.Second)
				local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1),
					`"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`+ident, 1)
				rec, err := u.store.Put(context.Background(), []byte(local))
				if err != nil {
					t.Fatal(err)
				}
				stamp := func(d time.Duration) string { return rec.Updated.Add(d).UTC().Format("2006-01-02T15:04:05.000Z") }
				withIdent := func(s string) string {
					return strings.Replace(s, `"status":`, ident+`"status":`, 1)
				}
				revoked := withIdent(strings.Replace(upstreamConsent("c1", "5", stamp(20*time.Second), "Organization/org-a"),
					`"status":"active"`, `"status":"inactive"`, 1))
				consents := []string{revoked}
				if twice {
					consents = append([]string{withIdent(upstreamConsent("c0", "1", stamp(-24*time.Hour), "Organization/org-a"))}, consents...)
				}
				u.fhir.set(http.StatusOK, consents...)
				if mode == UpstreamSync {
					if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
						t.Fatal(err)
					}
				}
				if got := u.read(tokConsented); got != http.StatusNotFound {
					t.Errorf("org-a: %d, want 404 (the EHR revoked the consent after the local copy was stored)", got)
				}
			})
		}
	}
}

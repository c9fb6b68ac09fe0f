package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// QA round 30 (area F), on 9fc0363: of two versions of one upstream
// consent an answer lists, the later is the one the server wrote later.
// consent.OneEach ordered them by the later of meta.lastUpdated and
// Consent.dateTime, and dateTime is the author's ("when this consent was
// agreed to"), not the server's: a permit dated ahead (a consent agreed to
// take effect next month, or a date mistyped) outranked the revocation the
// server stored after it, whose dateTime said when it was signed, and the
// revoked permit kept disclosing the SUD condition to org-a, on demand and
// in sync mode alike. With HAPI's numeric versionIds and with Medplum's
// (UUIDs, ordered only by meta.lastUpdated).
func TestConsentVersionOrderIsTheServersQA30F(t *testing.T) {
	t.Parallel()
	for _, ids := range [][2]string{{"1", "2"}, {"0d4b5f6e-1111-4c1e-9a6e-000000000001", "0d4b5f6e-1111-4c1e-9a6e-000000000002"}} {
		permit := upstreamConsent("u1", ids[0], "2026-01-01T00:00:00Z", "Organization/org-a")
		permit = strings.Replace(permit, `"status":"active",`, `"status":"active","dateTime":"2026-06-01T00:00:00Z",`, 1)
		revoked := upstreamConsent("u1", ids[1], "2026-02-01T00:00:00Z", "Organization/org-a")
		revoked = strings.Replace(revoked, `"status":"active",`, `"status":"inactive","dateTime":"2026-02-01T00:00:00Z",`, 1)
		narrowed := strings.Replace(revoked, `"status":"inactive"`, `"status":"active"`, 1)
		narrowed = strings.Replace(narrowed, "Organization/org-a", "Organization/org-z", 1) // the permit moved to another recipient
		for _, c := range []struct {
			name     string
			consents []string
		}{
			{"revoked", []string{permit, revoked}},
			{"revoked, listed first", []string{revoked, permit}},
			{"narrowed to org-z", []string{permit, narrowed}},
		} {
			for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
				u := newUpstreamSetup(t, ConsentSources{Upstream: mode, SyncInterval: time.Hour, TTL: time.Hour})
				u.fhir.set(200, c.consents...)
				if mode == UpstreamSync {
					if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
						t.Fatal(err)
					}
				}
				if code := u.read(tokConsented); code != http.StatusNotFound {
					t.Errorf("versions %v, %s, %s: org-a read the SUD condition: %d, want 404", ids, c.name, mode, code)
				}
			}
		}
	}
}

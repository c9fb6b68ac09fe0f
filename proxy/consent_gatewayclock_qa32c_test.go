package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// gatewayAhead makes u's upstream answer with a Date a gateway set by a
// clock skew ahead of the FHIR server's (which agrees with the proxy's),
// while its Consent searches and Consent history carry the server's own
// time as Bundle.meta.lastUpdated when stamped (HAPI sets it).
func gatewayAhead(u *upstreamSetup, skew time.Duration, stamped bool) {
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
		if !stamped || (r.URL.Path != "/fhir/R4/Consent" && r.URL.Path != "/fhir/R4/Consent/_history") {
			inner.ServeHTTP(w, r)
			return
		}
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		var b map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &b) == nil && b["resourceType"] == "Bundle" {
			b["meta"] = map[string]any{"lastUpdated": now}
			out, _ := json.Marshal(b)
			fhirJSONHandler(rec.Code, string(out))(w, r)
			return
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// TestGatewayDateAheadOfTheStampsQA32C: upstream copies are ordered
// against local ones by the upstream's clock as its answer's Date tells it
// (QA round 31, area F). A Date a gateway sets by a clock a minute ahead
// of the FHIR server's read the EHR's copy, which narrowed the local
// consent to org-b (or revoked it) 20 s after it was stored, as 40 s older
// than the local copy: the local, wider copy won and org-a read the SUD
// condition. A copy stamped after its Date is caught (round 31); one
// stamped well before it cannot be. A search Bundle that carries the
// server's own time (meta.lastUpdated) now widens what the Date tells to
// cover both, so that copies within the difference are in doubt (both
// deny, a revocation wins); when they agree the order is as before.
func TestGatewayDateAheadOfTheStampsQA32C(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		skew               time.Duration
		upOrg, upStatus    string
		wantOrgA, wantOrgB int
	}{
		{"gateway a minute ahead: the EHR narrowed to org-b 20 s after", time.Minute, "Organization/org-b", "active", http.StatusNotFound, 0},
		{"gateway a minute ahead: the EHR revoked 20 s after", time.Minute, "Organization/org-a", "inactive", http.StatusNotFound, http.StatusNotFound},
		{"Date and Bundle agree: the EHR's narrowing wins", 0, "Organization/org-b", "active", http.StatusNotFound, http.StatusOK},
	}
	for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				u := newUpstreamSetupStoredAgo(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour}, 40*time.Second)
				gatewayAhead(u, tt.skew, true)
				local := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1),
					`"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
				rec, err := u.store.Put(context.Background(), []byte(local))
				if err != nil {
					t.Fatal(err)
				}
				up := upstreamConsent("c1", "5", rec.Updated.Add(20*time.Second).UTC().Format("2006-01-02T15:04:05.000Z"), tt.upOrg)
				up = strings.Replace(up, `"status":"active"`, `"status":"`+tt.upStatus+`"`, 1)
				u.fhir.set(http.StatusOK, up)
				if mode == UpstreamSync {
					if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
						t.Fatal(err)
					}
				}
				if got := u.read(tokConsented); got != tt.wantOrgA {
					t.Errorf("org-a: %d, want %d", got, tt.wantOrgA)
				}
				if got := u.read(tokOther); tt.wantOrgB != 0 && got != tt.wantOrgB {
					t.Errorf("org-b: %d, want %d", got, tt.wantOrgB)
				}
			})
		}
	}
}

// TestGatewayDateAheadSyncPointQA32C: a sync round's point, from which the
// next round asks for consents changed since (_lastUpdated=gt), is the
// upstream's time as the Date tells it. A gateway's Date a minute ahead put
// it a minute in the server's future: a revocation the EHR stamped within
// that minute was in no incremental round, and the revoked consent kept
// disclosing until the next full one. A Bundle stamped by the server moves
// the point back to its time.
func TestGatewayDateAheadSyncPointQA32C(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	gatewayAhead(u, time.Minute, true)
	u.fhir.set(http.StatusOK, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	sc := u.server.consents.(*sourcedConsents)
	for _, full := range []bool{true, false} {
		point, err := sc.sync(context.Background(), time.Now().Add(-time.Hour), full)
		if err != nil {
			t.Fatal(err)
		}
		if ahead := time.Until(point); ahead > 2*time.Second {
			t.Errorf("full %v: the round's point is %v ahead of the server's clock", full, ahead.Round(time.Second))
		}
	}
}

package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"go.etcd.io/bbolt"
)

// BenchmarkPolicyConsents measures what one response pays to put a patient's
// 20 consents into the policy input, with the store's cache and without it.
func BenchmarkPolicyConsents(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"cached", consent.DefaultCacheSize}, {"uncached", 0}} {
		b.Run("20consents/"+bc.name, func(b *testing.B) {
			db, err := bbolt.Open(filepath.Join(b.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			store, err := consent.Open(db, consent.WithCacheSize(bc.size))
			if err != nil {
				b.Fatal(err)
			}
			for i := range 20 {
				raw := strings.Replace(strings.Replace(apiConsent, "ORG", fmt.Sprintf("Organization/o%d", i), 1),
					`"resourceType":"Consent",`, fmt.Sprintf(`"resourceType":"Consent","id":"c%d",`, i), 1)
				if _, err := store.Put(context.Background(), []byte(raw)); err != nil {
					b.Fatal(err)
				}
			}
			s := &Server{consents: store}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				cs, err := s.policyConsents(ctx, "Patient/p1")
				if err != nil || len(cs) != 20 {
					b.Fatalf("policyConsents = %d, %v", len(cs), err)
				}
			}
		})
	}
}

// BenchmarkUpstreamConsents measures what one response pays for a patient
// whose 20 consents the upstream FHIR server holds (consents.upstream
// on_demand), merged with an empty local store: from the cache, and read
// afresh each time (a real HTTP round trip to a local test server, the
// search Bundle decoded and every consent validated and normalised).
func BenchmarkUpstreamConsents(b *testing.B) {
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Hour}, {"uncached", time.Nanosecond}} {
		b.Run("20consents/"+bc.name, func(b *testing.B) {
			f := &fakeFHIR{}
			for i := range 20 {
				f.consents = append(f.consents, upstreamConsent(fmt.Sprintf("u%d", i), "1", "2026-01-01T00:00:00Z", fmt.Sprintf("Organization/o%d", i)))
			}
			up := httptest.NewServer(http.HandlerFunc(f.handler))
			defer up.Close()
			db, err := bbolt.Open(filepath.Join(b.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			store, err := consent.Open(db)
			if err != nil {
				b.Fatal(err)
			}
			u, _ := url.Parse(up.URL + "/fhir/R4")
			s := &Server{consents: store, client: up.Client(), upBase: u.String(), log: slog.New(slog.DiscardHandler)}
			if err := s.UseConsentSources(context.Background(), ConsentSources{Upstream: UpstreamOnDemand, TTL: bc.ttl}); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				cs, err := s.policyConsents(ctx, "Patient/p1")
				if err != nil || len(cs) != 20 {
					b.Fatalf("policyConsents = %d, %v", len(cs), err)
				}
			}
		})
	}
}

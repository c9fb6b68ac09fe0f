package proxy

import (
	"context"
	"fmt"
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

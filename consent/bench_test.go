package consent

import (
	"context"
	"fmt"
	"testing"
)

// benchStore holds one patient with n consents (every version a typical
// Part 2 consent with a nested permit).
func benchStore(b *testing.B, n int, opts ...Option) *Store {
	b.Helper()
	s := newStore(b, opts...)
	for i := range n {
		raw := fmt.Sprintf(`{"resourceType":"Consent","id":"c%02d","status":"active",
  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
  "patient":{"reference":"Patient/p1"},
  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
  "provision":{"type":"deny","period":{"start":"2026-01-01","end":"2027-12-31"},"provision":[{"type":"permit",
    "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/o%d"}}],
    "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}],
    "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}]}}`, i, i)
		if _, err := s.Put(context.Background(), []byte(raw)); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkNormalized measures what the response pipeline pays per request
// for one patient's consents: the lookup and normalisation of 20 consents,
// from the cache and without it.
func BenchmarkNormalized(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"cached", DefaultCacheSize}, {"uncached", 0}} {
		b.Run(fmt.Sprintf("20consents/%s", bc.name), func(b *testing.B) {
			s := benchStore(b, 20, WithCacheSize(bc.size))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				ns, _, err := s.Normalized(ctx, "Patient/p1")
				if err != nil || len(ns) != 20 {
					b.Fatalf("Normalized = %d, %v", len(ns), err)
				}
			}
		})
	}
}

// BenchmarkForPatientNormalize is the path before the cache: read every
// consent, then normalise each.
func BenchmarkForPatientNormalize(b *testing.B) {
	s := benchStore(b, 20)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		recs, err := s.ForPatient(ctx, "Patient/p1")
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if _, err := Normalize(r); err != nil {
				b.Fatal(err)
			}
		}
	}
}

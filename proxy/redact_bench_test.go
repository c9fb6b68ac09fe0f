package proxy

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

// BenchmarkProcessRedaction runs the response pipeline in process on a
// 100-entry searchset of mixed claims (each with one SUD diagnosis), for a
// caller who may see them whole and one whose SUD diagnoses are cut out,
// and on the same entries as ordinary claims (nothing to redact) as the
// baseline.
func BenchmarkProcessRedaction(b *testing.B) {
	u, _ := url.Parse("http://ehr/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Upstream: u}, Deps{
		Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1")}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	entries := func(doc string) []string {
		out := make([]string, 100)
		for i := range out {
			out[i] = strings.Replace(doc, `"id":"eob1"`, `"id":"eob`+itoa(i)+`"`, 1)
		}
		return out
	}
	mixed := bundle("http://ehr/fhir/R4", 100, false, entries(mixedEOB)...)
	ordinary := bundle("http://ehr/fhir/R4", 100, false, entries(strings.Replace(mixedEOB, "F11.20", "I11.9", 1))...)
	for _, c := range []struct {
		name, body, org string
	}{
		{"ordinary", ordinary, "Organization/org-b"},
		{"mixed/consented", mixed, "Organization/org-a"},
		{"mixed/redacted", mixed, "Organization/org-b"},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				ex := &exchange{
					caller:     authn.Caller{Subject: "u", Org: c.org, Purposes: []string{"TREAT"}, Scopes: []string{"patient/*.read"}},
					req:        fhirRequest{Interaction: Search, Type: "ExplanationOfBenefit"},
					publicBase: "http://proxy/fhir",
				}
				if _, _, _, err := s.process(context.Background(), ex, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

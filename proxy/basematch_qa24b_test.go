package proxy

import (
	"context"
	"net/url"
	"testing"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// New finds the upstream's hosts once, the aliases' with them, and the
// pre-filter of attachment urls reads them: an alias's host in another
// case is still a maybe, a code system's url a no, with no allocation.
func TestUpstreamHostsOfNew(t *testing.T) {
	up, _ := url.Parse("http://EHR.example:8080/fhir")
	alias, _ := url.Parse("https://alias.example/r4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Upstream: up, UpstreamAliases: []*url.URL{alias}}, Deps{
		Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if hs := s.upHosts; !hs.done || hs.unknown || hs.n != 2 || hs.hosts[0] != "EHR.example" || hs.hosts[1] != "alias.example" {
		t.Fatalf("upstream hosts %+v; want EHR.example and alias.example", s.upHosts)
	}
	r := &run{s: s}
	for seg, want := range map[string]bool{
		`{"url":"https://ALIAS.EXAMPLE/r4/Binary/1"}`:         true,
		`{"url":"http://ehr.example:8080/fhir/Binary/1"}`:     true,
		`{"system":"http://loinc.org","url":"//elsewhere/x"}`: false,
	} {
		if got := r.mayHoldUpstreamURL([]byte(seg)); got != want {
			t.Errorf("mayHoldUpstreamURL(%s) = %v; want %v", seg, got, want)
		}
	}
	seg := []byte(`{"system":"http://loinc.org","url":"https://Alias.example/r4/x"}`)
	if n := testing.AllocsPerRun(100, func() { r.mayHoldUpstreamURL(seg) }); n != 0 {
		t.Errorf("mayHoldUpstreamURL: %v allocations; want 0", n)
	}
}

// BenchmarkMayHoldUpstreamURLOfNew is BenchmarkMayHoldUpstreamURL/new
// with the hosts found once, as New finds them.
func BenchmarkMayHoldUpstreamURLOfNew(b *testing.B) {
	up, _ := url.Parse("http://127.0.0.1:8080/fhir")
	s := &Server{opts: Options{Upstream: up}}
	s.upBases = upstreamBases(s.opts)
	s.upHosts.find(s.upBases)
	r := &run{s: s}
	var segs [][]byte
	n := 0
	for _, res := range synth.BenchResources(1000, 1) {
		segs = append(segs, res.JSON)
		n += len(res.JSON)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		for _, seg := range segs {
			if r.mayHoldUpstreamURL(seg) {
				b.Fatal("maybe")
			}
		}
	}
}

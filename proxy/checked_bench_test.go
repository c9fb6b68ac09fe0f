package proxy

import (
	"testing"

	"github.com/ds4p/ds4p/internal/synth"
)

// BenchmarkCollectLabelled is the pipeline's first stage on a generated
// 1,000-entry searchset: finding, labelling and checking every resource.
// checked is what process runs (collectChecked: one walk of each
// resource); validating is the path a body the checked walk refuses
// takes (fjson.Validate whole, collect, labelBatch), which every body took
// before. checked/in-one-piece is the checked walk with no helpers
// (parts.go), and helpers/entry the share of entries helpers walked.
func BenchmarkCollectLabelled(b *testing.B) {
	s := checkedServer(b)
	s.opts.MaxJSONDepth = DefaultMaxJSONDepth
	bodies := []struct {
		name string
		body []byte
	}{
		{"read", synth.BenchResources(1, 1)[0].JSON},
		{"entries=1000", synth.SearchsetBundle(synth.BenchResources(1000, 1), "http://upstream.example/fhir")},
	}
	for _, p := range []struct {
		name string
		run  func(*Server, []byte) pathOutcome
	}{{"checked", runChecked}, {"checked/in-one-piece", func(s *Server, body []byte) pathOutcome {
		wp := s.walkParts
		s.walkParts = walkParts{}
		defer func() { s.walkParts = wp }()
		return runChecked(s, body)
	}}, {"validating", runValidating}} {
		for _, bd := range bodies {
			b.Run(p.name+"/"+bd.name, func(b *testing.B) {
				b.SetBytes(int64(len(bd.body)))
				b.ReportAllocs()
				var items int
				n := taken(func() {
					for b.Loop() {
						o := p.run(s, bd.body)
						if o.err != nil {
							b.Fatal(o.err)
						}
						items += len(o.r.items)
					}
				})
				b.ReportMetric(float64(n)/float64(items), "helpers/entry")
			})
		}
	}
}

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
// before.
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
	}{{"checked", runChecked}, {"validating", runValidating}} {
		for _, bd := range bodies {
			b.Run(p.name+"/"+bd.name, func(b *testing.B) {
				b.SetBytes(int64(len(bd.body)))
				b.ReportAllocs()
				for b.Loop() {
					if o := p.run(s, bd.body); o.err != nil {
						b.Fatal(o.err)
					}
				}
			})
		}
	}
}

package stages

import (
	"sort"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// BenchmarkLabel measures labels.Default().Label on every entry resource
// (the resources were found beforehand), and label+write, which also
// computes the meta.security edits of the resources whose labels changed
// and splices them into a new body, as the proxy's serialize stage does.
func BenchmarkLabel(b *testing.B) {
	l := labels.Default()
	for _, c := range corpora(b) {
		b.Run("label/"+c.name, func(b *testing.B) {
			measure(b, len(c.body), c.entries(), func() error {
				_, err := labelAll(l, c)
				return err
			})
		})
		b.Run("label+write/"+c.name, func(b *testing.B) {
			var edits []fjson.Edit
			out := make([]byte, 0, len(c.body)+len(c.body)/16)
			measure(b, len(c.body), c.entries(), func() error {
				var err error
				edits, err = labelEdits(l, c, edits[:0])
				if err != nil {
					return err
				}
				out, err = fjson.Apply(out[:0], c.body, edits)
				return err
			})
		})
	}
}

// labelEdits labels each resource and appends the edits of the changed ones,
// made absolute and in order.
func labelEdits(l *labels.Labeller, c corpus, edits []fjson.Edit) ([]fjson.Edit, error) {
	for _, sp := range c.resources {
		res := c.body[sp.start:sp.end]
		r, err := l.Label(res)
		if err != nil {
			return nil, err
		}
		if !r.Changed {
			continue
		}
		es, err := l.Edits(res, r)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			e.Start, e.End = e.Start+sp.start, e.End+sp.start
			edits = append(edits, e)
		}
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].Start < edits[j].Start })
	return edits, nil
}

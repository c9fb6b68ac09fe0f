package labels_test

import (
	"strconv"
	"testing"

	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
)

// BenchmarkLabelAll labels the entries of generated searchset Bundles
// (internal/synth.BenchBundle: 7-11% sensitive, 3-5% Part 2) as one batch,
// with the Part 2 program configured, propagation on and a label cache, as
// the proxy does; finding the entries is left out of the timing. valid/
// uses LabelAllValid, as the proxy does on the bodies it validated.
func BenchmarkLabelAll(b *testing.B) {
	l, err := labels.NewLabeller(labels.Options{
		Rules: labels.DefaultRules(),
		Programs: []labels.Program{{Name: "p2", References: []string{synth.Part2OrgRef, synth.Part2PractitionerRef},
			Sources: []string{synth.Part2Source}}},
		CacheSize: 100_000,
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 100, 1000} {
		body := synth.BenchBundle(n, 7)
		var batch [][]byte
		if err := eachResource(body, func(s, e int) error { batch = append(batch, body[s:e]); return nil }); err != nil {
			b.Fatal(err)
		}
		b.Run("entries="+strconv.Itoa(n), func(b *testing.B) {
			run(b, body, n, func() error {
				_, err := l.LabelAll(batch)
				return err
			})
		})
		b.Run("valid/entries="+strconv.Itoa(n), func(b *testing.B) { // as the proxy calls it, on a validated body
			run(b, body, n, func() error {
				_, err := l.LabelAllValid(batch)
				return err
			})
		})
	}
}

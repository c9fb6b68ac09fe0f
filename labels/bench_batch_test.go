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
// uses LabelAllValid, as the proxy did on the bodies it validated; checked/
// labels each entry with Batch.AddChecked, which checks the JSON as it
// walks, as the proxy does now instead of validating first.
func BenchmarkLabelAll(b *testing.B) {
	l := synthLabeller(b, 100_000)
	for _, n := range []int{1, 100, 1000} {
		body := synth.BenchBundle(n, 7)
		var batch [][]byte
		var starts []int
		if err := eachResource(body, func(s, e int) error {
			batch, starts = append(batch, body[s:e]), append(starts, s)
			return nil
		}); err != nil {
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
		b.Run("checked/entries="+strconv.Itoa(n), func(b *testing.B) { // each checked as it is labelled, no fjson.Validate before
			out := make([]labels.Result, len(starts))
			run(b, body, n, func() error {
				batch := l.NewBatch()
				for k, s := range starts {
					if _, _, err := batch.AddChecked(body, s, 128, &out[k]); err != nil {
						return err
					}
				}
				batch.Finish()
				return nil
			})
		})
		// checked/ and Batch.Resolve, as the proxy labels: every target is
		// known after the first iteration (the steady state), so this is
		// what looking for unknown targets costs a response.
		b.Run("checked-resolving/entries="+strconv.Itoa(n), func(b *testing.B) {
			out := make([]labels.Result, len(starts))
			fetch := func([]labels.Target) ([][]byte, error) { return nil, nil }
			run(b, body, n, func() error {
				batch := l.NewBatch()
				for k, s := range starts {
					if _, _, err := batch.AddChecked(body, s, 128, &out[k]); err != nil {
						return err
					}
				}
				if err := batch.Resolve(fetch); err != nil {
					return err
				}
				batch.Finish()
				return nil
			})
		})
	}
}

package fjson_test

import (
	"encoding/json"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
)

func BenchmarkValidate(b *testing.B) {
	for _, nb := range bundles(b) {
		b.Run(nb.name, func(b *testing.B) {
			b.SetBytes(int64(len(nb.json)))
			b.ReportAllocs()
			for b.Loop() {
				if err := fjson.Validate(nb.json, 64); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSkipValue(b *testing.B) {
	for _, nb := range bundles(b) {
		b.Run(nb.name, func(b *testing.B) {
			b.SetBytes(int64(len(nb.json)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fjson.SkipValue(nb.json, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSkipValid is SkipValue's job on input Validate already
// accepted, as the proxy's collect stage does.
func BenchmarkSkipValid(b *testing.B) {
	for _, nb := range bundles(b) {
		b.Run(nb.name, func(b *testing.B) {
			b.SetBytes(int64(len(nb.json)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fjson.SkipValid(nb.json, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEntries is the proxy's access pattern: find Bundle.entry, then
// each entry's resource and its resourceType.
func BenchmarkEntries(b *testing.B) {
	for _, nb := range bundles(b) {
		b.Run(nb.name, func(b *testing.B) {
			b.SetBytes(int64(len(nb.json)))
			b.ReportAllocs()
			for b.Loop() {
				if n := entryTypes(b, nb.json); n == 0 {
					b.Fatal("no entries")
				}
			}
		})
	}
}

// entryTypes counts the entries of a Bundle whose resource has a
// resourceType.
func entryTypes(b *testing.B, bundle []byte) int {
	s, _, ok, err := fjson.Lookup(bundle, 0, "entry")
	if err != nil || !ok {
		b.Fatal("no entry array", err)
	}
	n := 0
	err = fjson.ArrayEach(bundle, s, func(es, _ int) error {
		rs, _, ok, err := fjson.Lookup(bundle, es, "resource")
		if err != nil || !ok {
			return err
		}
		ts, te, ok, err := fjson.Lookup(bundle, rs, "resourceType")
		if _, isStr := fjson.RawString(bundle, ts, te); ok && isStr {
			n++
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkWalk descends into every value once with ObjectScan/ArrayScan, as
// the labeller does.
func BenchmarkWalk(b *testing.B) {
	for _, nb := range bundles(b) {
		b.Run(nb.name, func(b *testing.B) {
			b.SetBytes(int64(len(nb.json)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := countValues(nb.json); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodingJSONValid is the standard library's validator on the same
// input, for comparison.
func BenchmarkEncodingJSONValid(b *testing.B) {
	for _, nb := range bundles(b) {
		b.Run(nb.name, func(b *testing.B) {
			b.SetBytes(int64(len(nb.json)))
			for b.Loop() {
				if !json.Valid(nb.json) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func BenchmarkApply(b *testing.B) {
	for _, nb := range bundles(b) {
		b.Run(nb.name, func(b *testing.B) {
			edits := []fjson.Edit{{Start: 1, End: 1, Data: []byte(`"meta":{"security":[]},`)}}
			dst := make([]byte, 0, len(nb.json)+64)
			b.SetBytes(int64(len(nb.json)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = fjson.Apply(dst[:0], nb.json, edits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

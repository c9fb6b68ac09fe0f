package labels_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/fjson/fjsontest"
	"github.com/ds4p/ds4p/labels"
)

// sudCondition is mixed into benchmark Bundles every sudEvery entries, so
// that the rules fire as they would on a behavioural-health server.
const (
	sudCondition = `{"resourceType":"Condition","id":"sud-1","meta":{"versionId":"1","lastUpdated":"2025-04-06T10:00:00Z"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20","display":"Opioid dependence, uncomplicated"},{"system":"http://snomed.info/sct","code":"5602001","display":"Opioid abuse"}],"text":"Opioid dependence"},"subject":{"reference":"Patient/carl"},"recordedDate":"2025-04-06"}`
	sudEvery     = 25
)

// benchBundle is one Bundle body for the benchmarks.
type benchBundle struct {
	name    string
	json    []byte
	entries int
}

// benchBundles returns 1-, 100- and 1,000-entry Bundles from synthea-10 (or
// generated resources when it is absent) with a SUD Condition every
// sudEvery entries.
func benchBundles(b *testing.B) []benchBundle {
	rs, source := fjsontest.BenchResources()
	b.Logf("bundle resources from %s, one SUD Condition in %d", source, sudEvery)
	mixed := make([][]byte, 0, len(rs)+len(rs)/sudEvery)
	for k, r := range rs {
		if k%sudEvery == sudEvery-1 {
			mixed = append(mixed, []byte(sudCondition))
		}
		mixed = append(mixed, r)
	}
	var out []benchBundle
	for _, n := range []int{1, 100, 1000} {
		out = append(out, benchBundle{name: "entries=" + strconv.Itoa(n), json: fjsontest.Bundle(mixed, n), entries: n})
	}
	return out
}

// eachResource calls fn with each entry's resource, walking the Bundle in
// one pass as the proxy does: the resource is skipped once to find its end,
// then labelled.
func eachResource(b []byte, fn func(s, e int) error) error {
	_, err := fjson.ObjectScan(b, 0, func(key []byte, v int) (int, error) {
		if !fjson.KeyIs(key, "entry") {
			return fjson.SkipValue(b, v)
		}
		return fjson.ArrayScan(b, v, func(ev int) (int, error) {
			return fjson.ObjectScan(b, ev, func(key []byte, rv int) (int, error) {
				end, err := fjson.SkipValue(b, rv)
				if err != nil || !fjson.KeyIs(key, "resource") {
					return end, err
				}
				return end, fn(rv, end)
			})
		})
	})
	return err
}

// BenchmarkLabel labels every entry resource of a Bundle; finding the
// resources is left out of the timing.
func BenchmarkLabel(b *testing.B) {
	l := labels.Default()
	for _, bb := range benchBundles(b) {
		b.Run(bb.name, func(b *testing.B) {
			var spans [][2]int
			if err := eachResource(bb.json, func(s, e int) error { spans = append(spans, [2]int{s, e}); return nil }); err != nil {
				b.Fatal(err)
			}
			run(b, bb.json, bb.entries, func() error {
				for _, sp := range spans {
					if _, err := l.Label(bb.json[sp[0]:sp[1]]); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
}

// BenchmarkBundle walks a Bundle, labels every entry resource and writes
// the labels of the changed ones into a new body, as the response pipeline
// does.
func BenchmarkBundle(b *testing.B) {
	l := labels.Default()
	for _, bb := range benchBundles(b) {
		b.Run(bb.name, func(b *testing.B) {
			var edits []fjson.Edit
			out := make([]byte, 0, 2*len(bb.json))
			splice := func(s, e int) error {
				r, err := l.Label(bb.json[s:e])
				if err != nil || !r.Changed {
					return err
				}
				es, err := l.Edits(bb.json[s:e], r)
				for _, ed := range es {
					ed.Start, ed.End = ed.Start+s, ed.End+s
					edits = append(edits, ed)
				}
				return err
			}
			run(b, bb.json, bb.entries, func() error {
				edits = edits[:0]
				if err := eachResource(bb.json, splice); err != nil {
					return err
				}
				var err error
				out, err = fjson.Apply(out[:0], bb.json, edits)
				return err
			})
		})
	}
}

// run times op over the Bundle body and reports throughput and allocations
// per entry.
func run(b *testing.B, body []byte, entries int, op func() error) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	iters := 0
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
		iters++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(iters*entries), "allocs/entry")
}

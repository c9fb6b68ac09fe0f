package labels_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// distinctChain returns Observations o0 ... o<n-1>, each of its own
// patient and derived from the next (a response to
// Observation?_id=o0&_include:iterate=Observation:derived-from).
func distinctChain(n int) [][]byte {
	out := make([][]byte, 0, n)
	for i := range n {
		ref := ""
		if i < n-1 {
			ref = `,"derivedFrom":[{"reference":"Observation/o` + strconv.Itoa(i+1) + `"}]`
		}
		out = append(out, []byte(`{"resourceType":"Observation","id":"o`+strconv.Itoa(i)+`","status":"final","subject":{"reference":"Patient/p`+strconv.Itoa(i)+`"},"code":{"text":"note"}`+ref+`}`))
	}
	return out
}

// BenchmarkDistinctPatientChainQA43F measures LabelAll over such a chain:
// linkedPatients now carries patients to the chain's end (5fd4ed8).
func BenchmarkDistinctPatientChainQA43F(b *testing.B) {
	for _, n := range []int{100, 300, 1000, 2000} {
		for _, order := range []string{"forward", "backward"} {
			batch := distinctChain(n)
			if order == "backward" {
				slices.Reverse(batch)
			}
			b.Run(order+"/"+strconv.Itoa(n), func(b *testing.B) {
				l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					rs, err := l.LabelAll(batch)
					o0 := rs[0]
					if order == "backward" {
						o0 = rs[n-1]
					}
					if err != nil || len(o0.Patients) != n {
						b.Fatalf("o0: %d patients, %v", len(o0.Patients), err)
					}
				}
			})
		}
	}
}

// TestDistinctPatientChainCostQA43F (QA round 43, helper F, on 5fd4ed8):
// a response holding a chain of 300 Observations, each of its own patient
// and derived from the next, gives each the patients of the chain past it
// (to its end since 5fd4ed8): 45,150 patients in all. AddPatient copies a
// result's patients for each it adds, so the chain took a copy per
// patient added (about 45,000 allocations, cubic time: 10 s for 1,000,
// 51 s for 2,000; BenchmarkDistinctPatientChainQA43F); the patients a
// result takes past a few are now indexed and appended, in either order.
func TestDistinctPatientChainCostQA43F(t *testing.T) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for _, order := range []string{"forward", "backward"} {
		batch := distinctChain(n)
		if order == "backward" {
			slices.Reverse(batch)
		}
		var rs []labels.Result
		allocs := testing.AllocsPerRun(2, func() {
			if rs, err = l.LabelAll(batch); err != nil {
				t.Fatal(err)
			}
		})
		total := 0
		for k := range rs {
			total += len(rs[k].Patients)
			if k := len(rs[k].Patients); k > n {
				t.Fatalf("%s: a result with %d patients", order, k)
			}
		}
		if total != n*(n+1)/2-1 {
			t.Errorf("%s: %d patients in all, want %d", order, total, n*(n+1)/2-1)
		}
		if allocs > 15000 {
			t.Errorf("%s: %.0f allocations for %d resources, want at most 15,000", order, allocs, n)
		}
	}
}

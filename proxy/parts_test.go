package proxy

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ds4p/ds4p/internal/synth"
)

// Walking a searchset in parts (parts.go) must make exactly the run the
// walk in one piece makes, and accept and refuse exactly the same bodies,
// wherever the guesses of where parts start land.

// partsServers are a Server that walks every body in one piece and one that
// walks every searchset of two or more bytes in up to max parts, each part
// by its helper (the walk never claims one: tests count what helpers did).
func partsServers(t *testing.T, max int) (whole, parted *Server) {
	t.Helper()
	whole, parted = checkedServer(t), checkedServer(t)
	whole.walkParts = walkParts{}
	parted.walkParts = walkParts{minBody: 2, minPart: 1, max: max}
	return whole, parted
}

// sameWalks fails unless the two servers' checked walks both refuse body
// or both accept it and found the same resources, entries and labels (and
// the items the same types and contained arrays). It reports whether they
// accepted it.
func sameWalks(t *testing.T, whole, parted *Server, body []byte) bool {
	t.Helper()
	w, p := runChecked(whole, body), runChecked(parted, body)
	if !sameOutcomes(t, "in one piece", w, "in parts", p, body) {
		return false
	}
	for k, wi := range w.r.items {
		if pi := p.r.items[k]; wi.typ != pi.typ || wi.containedAt != pi.containedAt {
			t.Fatalf("item %d: in one piece %s contained at %d, in parts %s at %d", k, wi.typ, wi.containedAt, pi.typ, pi.containedAt)
		}
	}
	return true
}

// taken counts the entries taken from helpers while f runs.
func taken(f func()) int64 {
	before := partEntries.Load()
	f()
	return partEntries.Load() - before
}

func TestWalkInPartsSameAsWhole(t *testing.T) {
	// Not parallel: it counts partEntries, which other tests move.
	big := synth.SearchsetBundle(synth.BenchResources(300, 7), "http://upstream.example/fhir")
	var indented bytes.Buffer
	if err := json.Indent(&indented, big, "", "  "); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{2, 3, 4} {
		whole, parted := partsServers(t, max)
		for name, body := range map[string][]byte{
			"generated":          big,
			"generated indented": indented.Bytes(),
			"special entries":    []byte(checkedBundle),
		} {
			var ok bool
			n := taken(func() { ok = sameWalks(t, whole, parted, body) })
			if !ok {
				t.Fatalf("%d parts, %s: refused", max, name)
			}
			// Every guess into these bodies lands on an entry: each helper's
			// entries are taken.
			if name != "special entries" && n < 100 {
				t.Errorf("%d parts, %s: %d entries taken from helpers, want at least 100", max, name, n)
			}
		}
	}
}

// TestWalkInPartsGuessesThatMiss puts what looks like an entry's start
// where the guesses look, inside nested Bundles and resources: the walk
// must pass those parts by, and make the run it makes in one piece.
func TestWalkInPartsGuessesThatMiss(t *testing.T) {
	nestedEntries := strings.Repeat(`{"fullUrl":"http://x/Observation/n","resource":{"resourceType":"Observation","id":"n","subject":{"reference":"Patient/p1"}}},`, 60)
	inNested := `{"resourceType":"Bundle","type":"searchset","entry":[` +
		`{"resource":{"resourceType":"Observation","id":"a","subject":{"reference":"Patient/p1"}}},` +
		`{"resource":{"resourceType":"Bundle","type":"collection","entry":[` + nestedEntries + `{"resource":{"resourceType":"Observation","id":"last"}}]}},` +
		`{"resource":{"resourceType":"Observation","id":"b","subject":{"reference":"Patient/p1"}}}]}`
	// Objects in arrays that open with "id" and "extension", as entries
	// may: the guesses land inside the resources.
	components := strings.Repeat(`{"id":"c","code":{"text":"c"}},{"extension":[{"url":"u","valueString":"v"}],"code":{"text":"e"}},`, 80)
	inResource := `{"resourceType":"Bundle","type":"searchset","entry":[` +
		`{"resource":{"resourceType":"Observation","id":"a","subject":{"reference":"Patient/p1"},"component":[` + components + `{"code":{"text":"d"}}]}},` +
		`{"resource":{"resourceType":"Observation","id":"b","subject":{"reference":"Patient/p1"}}}]}`
	// A string cannot hold the pattern unescaped.
	inString := `{"resourceType":"Bundle","type":"searchset","entry":[` +
		`{"resource":{"resourceType":"Observation","id":"a","note":[{"text":"` + strings.Repeat(`,{\"fullUrl\":\"x\"}`, 300) + `"}]}},` +
		`{"resource":{"resourceType":"Observation","id":"b"}}]}`
	for _, max := range []int{2, 3, 4} {
		whole, parted := partsServers(t, max)
		for name, body := range map[string]string{"in a nested Bundle": inNested, "in a resource": inResource, "in a string": inString} {
			var ok bool
			before := partsMissed.Load()
			n := taken(func() { ok = sameWalks(t, whole, parted, []byte(body)) })
			if !ok {
				t.Fatalf("%d parts, %s: refused", max, name)
			}
			missed := partsMissed.Load() - before
			// With two parts the one guess lands in the middle of the
			// nested Bundle or the resource, which fill the body.
			if max == 2 && name != "in a string" && (missed != 1 || n != 0) {
				t.Errorf("2 parts, %s: %d parts missed, %d entries taken; want 1 and 0", name, missed, n)
			}
		}
	}
	if at, b := entryStartNear([]byte(inString), 0), strings.Index(inString, `{"resource":{"resourceType":"Observation","id":"b"`); at != b {
		t.Errorf("entryStartNear guessed %d, not the second entry's start %d", at, b)
	}
}

// TestWalkInPartsRefusesAlike: a body broken anywhere, before, inside or
// after any part, is refused in parts exactly when in one piece, and a
// body the cut leaves whole is walked the same.
func TestWalkInPartsRefusesAlike(t *testing.T) {
	t.Parallel()
	body := synth.SearchsetBundle(synth.BenchResources(40, 3), "http://upstream.example/fhir")
	whole, parted := partsServers(t, 4)
	parted.walkParts.claim = true // either way, as helpers happen to start
	rng := rand.New(rand.NewPCG(5, 6))
	bad := []byte{'"', '{', '}', '[', ']', ',', ':', 0xff, '\\', '0', ' ', 'x'}
	refused := 0
	for range 400 {
		m := bytes.Clone(body)
		switch at := rng.IntN(len(m)); rng.IntN(3) {
		case 0:
			m[at] = bad[rng.IntN(len(bad))]
		case 1:
			m = m[:at]
		default:
			m = append(m[:at:at], m[at+1:]...)
		}
		if !sameWalks(t, whole, parted, m) {
			refused++
		}
	}
	if refused < 150 {
		t.Errorf("only %d of 400 broken bodies refused: the mutations do not test refusal", refused)
	}
}

// TestWalkInPartsDepthLimit: helpers hold the nesting limit as the walk
// does, for an entry at the limit and one past it in every place.
func TestWalkInPartsDepthLimit(t *testing.T) {
	deep := func(n int) string { // an Observation nesting n deep below its own object
		return `{"resource":{"resourceType":"Observation","id":"d","x":` + strings.Repeat(`[`, n-1) + strings.Repeat(`]`, n-1) + `}}`
	}
	small := `{"fullUrl":"http://x/Observation/s","resource":{"resourceType":"Observation","id":"s","subject":{"reference":"Patient/p1"}}}`
	for _, max := range []int{2, 3, 4} {
		whole, parted := partsServers(t, max)
		for _, c := range []struct {
			n      int
			accept bool
		}{{12 - 3, true}, {12 - 2, false}} {
			for at := range 8 {
				entries := make([]string, 8)
				for i := range entries {
					entries[i] = small
				}
				entries[at] = deep(c.n)
				body := `{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Join(entries, ",") + `]}`
				if got := sameWalks(t, whole, parted, []byte(body)); got != c.accept {
					t.Errorf("%d parts, nesting %d in entry %d: accepted %v, want %v", max, c.n, at, got, c.accept)
				}
			}
		}
	}
}

// TestWalkInPartsHelperPanics: a helper that panics ends its part there;
// the walk walks the rest itself and the process lives on.
func TestWalkInPartsHelperPanics(t *testing.T) {
	body := synth.SearchsetBundle(synth.BenchResources(120, 9), "http://upstream.example/fhir")
	whole, parted := partsServers(t, 3)
	var calls atomic.Int64
	parted.walkParts.helperHook = func(int) {
		if calls.Add(1)%7 == 0 {
			panic("a labeller bug")
		}
	}
	var ok bool
	n := taken(func() { ok = sameWalks(t, whole, parted, body) })
	if !ok {
		t.Fatal("refused")
	}
	if calls.Load() < 7 || n == 0 || n >= 118 {
		t.Errorf("%d helper entries begun, %d taken: want a panic after some were taken and the walk to walk the rest", calls.Load(), n)
	}
}

// FuzzWalkInParts: whatever the body, the walk in parts accepts and
// refuses what the walk in one piece does, and makes the same run.
func FuzzWalkInParts(f *testing.F) {
	f.Add([]byte(checkedBundle), uint8(2))
	f.Add(synth.SearchsetBundle(synth.BenchResources(12, 4), "http://upstream.example/fhir"), uint8(4))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"id":"a"},{"resource":{"resourceType":"Bundle","entry":[{"fullUrl":"x"},{"fullUrl":"y"}]}},{"extension":[{"id":"z"}]}]}`), uint8(3))
	whole := checkedServer(f)
	whole.walkParts = walkParts{}
	parted := [5]*Server{}
	for n := 2; n <= 4; n++ {
		parted[n] = checkedServer(f)
		parted[n].walkParts = walkParts{minBody: 2, minPart: 1, max: n}
	}
	f.Fuzz(func(t *testing.T, body []byte, n uint8) {
		sameWalks(t, whole, parted[2+int(n)%3], body)
	})
}

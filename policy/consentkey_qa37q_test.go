package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// consentKeyQA37Q is ConsentKey as it was before QA round 37 (area Q):
// the key must not change, or every decision and fixed verdict cached
// under the old form would be computed again (and a key that named other
// versions would serve the wrong consents' decisions).
func consentKeyQA37Q(vs []ConsentVersion) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.ID + "\x00" + v.Version
	}
	slices.Sort(parts)
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0xff})
	}
	return "c:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// TestConsentKeyUnchangedQA37Q: the key of no, one and several consent
// versions is byte for byte the old one, for ids and versions of every
// length around the stack buffer's size, with NUL and 0xff bytes and
// non-ASCII text, in any order.
func TestConsentKeyUnchangedQA37Q(t *testing.T) {
	rnd := rand.New(rand.NewPCG(37, 17))
	alphabet := []string{"a", "Z", "0", "-", ".", "\x00", "\xff", "é", "c1", "1"}
	str := func() string {
		var b strings.Builder
		for range rnd.IntN(140) {
			b.WriteString(alphabet[rnd.IntN(len(alphabet))])
		}
		return b.String()
	}
	cases := [][]ConsentVersion{
		nil,
		{},
		{{}},
		{{ID: "c1", Version: "1"}},
		{{ID: "c1", Version: "2"}},
		{{ID: "c1\x00", Version: "1"}},
		{{ID: "c1", Version: "\x001"}},
		{{ID: strings.Repeat("x", 64), Version: strings.Repeat("9", 62)}}, // 128 bytes hashed
		{{ID: strings.Repeat("x", 64), Version: strings.Repeat("9", 63)}}, // 129
		{{ID: strings.Repeat("x", 500), Version: "1"}},
		{{ID: "c1", Version: "1"}, {ID: "c2", Version: "1"}},
		{{ID: "c2", Version: "1"}, {ID: "c1", Version: "1"}},
	}
	for range 2000 {
		n := rnd.IntN(4)
		vs := make([]ConsentVersion, n)
		for i := range vs {
			vs[i] = ConsentVersion{ID: str(), Version: str()}
		}
		cases = append(cases, vs)
	}
	for _, vs := range cases {
		if got, want := ConsentKey(vs), consentKeyQA37Q(vs); got != want {
			t.Fatalf("ConsentKey(%q) = %q, was %q", vs, got, want)
		}
	}
}

// TestConsentKeyAllocationsQA37Q: a read's patient has no consent or one,
// and its key is made on every read; it takes one allocation (the string),
// where it took four (two for none).
func TestConsentKeyAllocationsQA37Q(t *testing.T) {
	one := []ConsentVersion{{ID: "c-0f3a9d6e-5b1c-4d2e-8f7a-1b2c3d4e5f60", Version: "12"}}
	for _, vs := range [][]ConsentVersion{nil, one} {
		if n := testing.AllocsPerRun(100, func() { _ = ConsentKey(vs) }); n > 1 {
			t.Errorf("ConsentKey of %d versions: %v allocations, want at most 1", len(vs), n)
		}
	}
}

package fjson

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveURLMark is IndexURLMark's meaning, one position at a time.
func naiveURLMark(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		switch string(b[i : i+2]) {
		case "//", `\/`, `\u`:
			return i
		}
	}
	return -1
}

// TestIndexURLMarkEveryPosition: each pair it finds, and the bytes that
// only look like half of one, at every position of bodies of 0 to 100
// bytes (so at each end of every 32-byte block, and across two), in a
// body full of lone slashes, backslashes and u's.
func TestIndexURLMarkEveryPosition(t *testing.T) {
	plain := strings.Repeat(`a/b\cu"d/e\f u/`, 8)
	if naiveURLMark([]byte(plain)) >= 0 {
		t.Fatal("the plain text holds a pair")
	}
	pairs := []string{"//", `\/`, `\u`, "/u", `/\`, "u/", `u\`, `\\`, `\U`, `\"`}
	for n := 0; n <= 100; n++ {
		b := []byte(plain[:n])
		if got := IndexURLMark(b); got != -1 {
			t.Fatalf("n=%d, no pair: %d", n, got)
		}
		for at := 0; at+2 <= n; at++ {
			for _, p := range pairs {
				b := []byte(plain[:n])
				copy(b[at:], p)
				want := naiveURLMark(b)
				if got := IndexURLMark(b); got != want {
					t.Fatalf("n=%d, %q at %d in %q: %d, want %d", n, p, at, b, got, want)
				}
			}
		}
		if n > 0 { // a pair's first byte last: nothing after it to read
			for _, c := range []byte{'/', '\\'} {
				b := []byte(plain[:n])
				b[n-1] = c
				if got, want := IndexURLMark(b), naiveURLMark(b); got != want {
					t.Fatalf("n=%d, %q last: %d, want %d", n, c, got, want)
				}
			}
		}
	}
}

// TestIndexURLMarkRandom compares it with the one-position search on
// random bodies of the bytes that matter.
func TestIndexURLMarkRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 1))
	alphabet := []byte(`/\u"aU:.`)
	for range 20000 {
		b := make([]byte, rng.IntN(300))
		for i := range b {
			if rng.IntN(8) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = 'x'
			}
		}
		if got, want := IndexURLMark(b), naiveURLMark(b); got != want {
			t.Fatalf("%q: %d, want %d", b, got, want)
		}
		// from every offset, as callers search on after a hit
		for off := 0; off < len(b); off += 1 + rng.IntN(40) {
			if got, want := IndexURLMark(b[off:]), naiveURLMark(b[off:]); got != want {
				t.Fatalf("%q from %d: %d, want %d", b, off, got, want)
			}
		}
	}
}

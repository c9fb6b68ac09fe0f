package authn

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// The cache's key is the SHA-256 of the raw token, for tokens of every
// size, and looking a JWT-sized token up allocates nothing.
func TestTokenKeyIsSHA256(t *testing.T) {
	for _, n := range []int{0, 1, 900, 4095, 4096, 4097, 10000} {
		raw := strings.Repeat("x", n)
		if got, want := tokenKey(raw), sha256.Sum256([]byte(raw)); got != want {
			t.Errorf("length %d: key %x; want %x", n, got, want)
		}
	}
	c := newTokenCache(10, time.Minute)
	raw := "eyJ" + strings.Repeat("a", 900)
	c.put(raw, Caller{Subject: "s"}, time.Time{}, time.Time{})
	if got, ok := c.get(raw); !ok || got.Subject != "s" {
		t.Fatalf("get: %+v, %v", got, ok)
	}
	if _, ok := c.get(raw + "b"); ok {
		t.Fatal("another token found the entry")
	}
	if n := testing.AllocsPerRun(100, func() { c.get(raw) }); n != 0 {
		t.Errorf("get of a %d-byte token: %v allocations; want 0", len(raw), n)
	}
}

// BenchmarkTokenKey is the cache's key of a JWT-sized token, read in place
// (tokenKey) and from a heap copy (as before).
func BenchmarkTokenKey(b *testing.B) {
	raw := "eyJ" + strings.Repeat("a", 900)
	b.Run("in-place", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = tokenKey(raw)
		}
	})
	b.Run("copy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = sha256.Sum256([]byte(raw))
		}
	})
}

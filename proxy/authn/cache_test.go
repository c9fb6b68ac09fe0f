package authn

import (
	"testing"
	"time"
)

func TestTokenCacheHonoursTimes(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	c := newTokenCache(2, time.Minute)
	c.now = func() time.Time { return now }
	c.put("a", Caller{Subject: "a"}, time.Time{}, now.Add(30*time.Second))
	c.put("future", Caller{Subject: "f"}, now.Add(time.Hour), now.Add(2*time.Hour))
	if got, ok := c.get("a"); !ok || got.Subject != "a" {
		t.Fatalf("fresh entry missed: %v %v", got, ok)
	}
	if _, ok := c.get("future"); ok {
		t.Fatal("a token before its nbf was served from the cache")
	}
	now = now.Add(31 * time.Second)
	if _, ok := c.get("a"); ok {
		t.Fatal("an expired token was served from the cache")
	}
	c.put("b", Caller{Subject: "b"}, time.Time{}, now.Add(time.Hour))
	now = now.Add(61 * time.Second)
	if _, ok := c.get("b"); ok {
		t.Fatal("an entry outlived the cache TTL")
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newTokenCache(10, time.Minute)
	for i := 0; i < 1000; i++ {
		c.put(string(rune('a'+i%26))+time.Duration(i).String(), Caller{}, time.Time{}, time.Now().Add(time.Hour))
	}
	if len(c.seen) > 10 {
		t.Fatalf("cache holds %d entries, bound is 10", len(c.seen))
	}
}

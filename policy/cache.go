package policy

import (
	"hash/maphash"
	"sync"
)

// lruShards spreads a cache over independently locked shards.
const cacheShards = 16

// boundedCache is a concurrent map with a fixed capacity. When a shard is
// full, inserting evicts an arbitrary entry of it (Go's map iteration order
// is randomised, which makes this random eviction): cheap, and good enough
// for a cache whose working set is a few classes per caller and patient.
type boundedCache[V any] struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard[V]
	perCap int
}

type cacheShard[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// newBoundedCache returns a cache holding about capacity entries; capacity
// <= 0 returns nil, a cache that holds nothing.
func newBoundedCache[V any](capacity int) *boundedCache[V] {
	if capacity <= 0 {
		return nil
	}
	c := &boundedCache[V]{seed: maphash.MakeSeed(), perCap: max(1, capacity/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]V)
	}
	return c
}

func (c *boundedCache[V]) shard(key string) *cacheShard[V] {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

func (c *boundedCache[V]) get(key string) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	s := c.shard(key)
	s.mu.Lock()
	v, ok := s.m[key]
	s.mu.Unlock()
	return v, ok
}

// getBytes is get for a key held as bytes: the lookup converts it without
// allocating a string (a decision answered by the cache allocates nothing
// for its key).
func (c *boundedCache[V]) getBytes(key []byte) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	s := &c.shards[maphash.Bytes(c.seed, key)%cacheShards] // as shard(string(key))
	s.mu.Lock()
	v, ok := s.m[string(key)]
	s.mu.Unlock()
	return v, ok
}

func (c *boundedCache[V]) put(key string, v V) {
	if c == nil {
		return
	}
	s := c.shard(key)
	s.mu.Lock()
	if _, exists := s.m[key]; !exists && len(s.m) >= c.perCap {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[key] = v
	s.mu.Unlock()
}

// len returns the number of entries held.
func (c *boundedCache[V]) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// cachedDecision is a decision valid for request times in [lo, hi), made
// with the consents whose policy form has the digest consents
// (consentSet.digest).
type cachedDecision struct {
	d        Decision
	lo, hi   int64
	consents [16]byte
}

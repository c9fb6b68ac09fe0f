package labels

import (
	"strings"
	"sync"
)

// Cache remembers the inheritable labels (see LabelAll) of sensitive
// resources seen in earlier responses, keyed by "Type/id" and holding the
// version they were seen at, so that a resource whose reference target is
// not in the same response still inherits from it. It holds at most its
// size of resources, evicting the oldest first; it is safe for concurrent
// use.
//
// The cache can only know what it has seen: a MedicationRequest labelled
// before its reason Condition ever passed through the proxy does not
// inherit, and a later response does not relabel what was already sent.
type Cache struct {
	mu   sync.RWMutex
	max  int
	m    map[string]cacheEntry
	ring []string // keys in insertion order, for eviction
	next int
}

type cacheEntry struct {
	version string
	labels  Set
	program string
}

// NewCache returns a cache holding at most size resources.
func NewCache(size int) *Cache {
	return &Cache{max: max(size, 1), m: map[string]cacheEntry{}}
}

// Len returns the number of resources held.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// get returns the labels held for "Type/id".
func (c *Cache) get(key []byte) (cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.m[string(key)]
	c.mu.RUnlock()
	return e, ok
}

// note records what a labelled resource passes on: its inheritable labels
// replace what was held for it (a new version may have lost a sensitive
// code), and a resource that passes nothing on is forgotten.
func (c *Cache) note(r *Result) {
	if r.Type == "" || r.ID == "" {
		return
	}
	inh := inheritable(r.Effective())
	var buf [128]byte
	key := append(append(append(buf[:0], r.Type...), '/'), r.ID...)
	c.mu.RLock()
	old, ok := c.m[string(key)]
	c.mu.RUnlock()
	if (!ok && len(inh) == 0) || (ok && old.version == r.VersionID && old.labels.Equal(inh)) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(inh) == 0 {
		delete(c.m, string(key))
		return
	}
	k := string(key)
	if _, ok := c.m[k]; !ok {
		c.evict()
		c.ring = append(c.ring, k)
	}
	// The version is copied: r's strings may share a chunk with the rest of
	// its batch (strArena), which the cache would otherwise keep alive.
	c.m[k] = cacheEntry{version: strings.Clone(r.VersionID), labels: inh, program: r.Program}
}

// evict makes room for one more key. Keys already deleted from the map
// are skipped when their turn comes.
func (c *Cache) evict() {
	for len(c.m) >= c.max && len(c.ring) > 0 {
		old := c.ring[0]
		c.ring = c.ring[1:]
		delete(c.m, old)
	}
	if cap(c.ring) > 4*c.max { // compact the ring's backing array now and then
		c.ring = append([]string(nil), c.ring...)
	}
}

// CacheLen returns the number of resources in the label cache (0 without
// one).
func (l *Labeller) CacheLen() int {
	if l.cache == nil {
		return 0
	}
	return l.cache.Len()
}

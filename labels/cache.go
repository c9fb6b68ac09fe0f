package labels

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Cache remembers the inheritable labels (see LabelAll) of sensitive
// resources seen in earlier responses, keyed by "Type/id" and holding the
// version they were seen at, so that a resource whose reference target is
// not in the same response still inherits from it. It holds at most its
// size of resources, evicting the oldest first; it is safe for concurrent
// use.
//
// On its own the cache can only know what it has seen: a MedicationRequest
// labelled before its reason Condition ever passed through the proxy would
// not inherit. Batch.Resolve fetches such targets first; the cache then
// also remembers, for its known-TTL, the fetched targets that pass nothing
// on (ordinary or missing), so that they are not fetched for every
// response; the labels it holds for a target count as all it passes on
// for that TTL too (knows), then it is read again. A later response never
// relabels what was already sent.
type Cache struct {
	mu   sync.RWMutex
	max  int
	m    map[string]cacheEntry
	ring []string // keys in insertion order, for eviction
	next int

	// known: fetched targets that passed nothing on, and until when that
	// is taken to hold (unix nanoseconds), bounded by max as m is.
	ttl       time.Duration
	known     map[string]int64
	knownRing []string
	// forgets counts Forget and RulesChanged calls: what a batch read
	// before a write or a change of rules must not be noted as known after
	// it (noteKnown).
	forgets uint64
	// rules counts RulesChanged calls. An entry noted under an earlier
	// count is stale: its labels still pass on (a floor: the rules that
	// gave them may have been a fix, not an error) but the cache no
	// longer knows the target, so Batch.Resolve fetches it again and its
	// labels under the rules in use replace them.
	rules atomic.Uint64
}

type cacheEntry struct {
	version string
	labels  Set
	program string
	// directory is the program a directory entry stands for
	// (Result.directory).
	directory string
	rules     uint64 // Cache.rules when noted
	// noted is when the entry was last noted (unix ns): it is known for
	// the known-TTL from then (knows).
	noted int64
	// patients are those of the resource (Result.Patient, then the rest
	// of Result.Patients); conflict is its Result.PatientConflict. A
	// resource referring to it is each of its patients' too
	// (linkedPatients).
	patients []string
	conflict bool
}

// resultPatients lists the patients of r, Patient first, as cacheEntry
// holds them (cloned: r's strings may share its batch's chunk).
func resultPatients(r *Result) []string {
	switch {
	case r.referred: // its referrers' (referrerPatients), not its own
		return nil
	case len(r.Patients) > 0:
		out := make([]string, len(r.Patients))
		for k, p := range r.Patients {
			out[k] = strings.Clone(p)
		}
		return out
	case r.Patient != "":
		return []string{strings.Clone(r.Patient)}
	}
	return nil
}

// NewCache returns a cache holding at most size resources.
func NewCache(size int) *Cache {
	return &Cache{max: max(size, 1), m: map[string]cacheEntry{}, ttl: DefaultKnownTTL, known: map[string]int64{}}
}

// SetKnownTTL sets how long a fetched target that passed nothing on is
// taken to stay so, and the labels held for one to be all it passes on
// (DefaultKnownTTL unless set); 0 or less: it is fetched again for every
// batch that refers to it.
func (c *Cache) SetKnownTTL(d time.Duration) {
	c.mu.Lock()
	c.ttl = d
	c.mu.Unlock()
}

// knows reports whether the cache holds labels for "Type/id" noted less
// than the known-TTL before now, or knows, still at now, that it passes
// nothing on.
//
// Labels held are taken as all the target passes on for the known-TTL
// only, as the knowledge that a target passes nothing on is: the upstream
// changes its resources past the proxy (a Condition/c1 labelled PSY given
// an SUD code in the EHR, its versionId moved or not), and while the entry
// was taken as known for good a reference to c1 passed on PSY alone until
// c1 itself went through the proxy again; an order whose reason it was
// went to a caller who may see PSY but not SUD (QA round 28). After the
// TTL, Batch.Resolve reads the target again, its labels meanwhile still
// passing on (they can only restrict).
func (c *Cache) knows(key []byte, now time.Time) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e, ok := c.m[string(key)]; ok && e.rules == c.rules.Load() && now.UnixNano() < e.noted+int64(c.ttl) {
		return true
	}
	until, ok := c.known[string(key)]
	return ok && now.UnixNano() < until
}

// generation is the count of Forget and RulesChanged calls so far.
func (c *Cache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.forgets
}

// noteKnown records the fetched targets keys that the cache holds no
// labels for (after the batch that fetched them noted its resources) as
// passing nothing on until now plus the known-TTL, unless a write was
// forgotten since gen, when the batch began to read them: what it read may
// be the version before the write.
func (c *Cache) noteKnown(keys []string, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 || c.forgets != gen {
		return
	}
	until := now.Add(c.ttl).UnixNano()
	for _, k := range keys {
		if _, ok := c.m[k]; ok {
			delete(c.known, k) // sensitive after all
			continue
		}
		if _, ok := c.known[k]; !ok {
			for len(c.known) >= c.max && len(c.knownRing) > 0 {
				delete(c.known, c.knownRing[0])
				c.knownRing = c.knownRing[1:]
			}
			if cap(c.knownRing) > 4*c.max {
				c.knownRing = append([]string(nil), c.knownRing...)
			}
			c.knownRing = append(c.knownRing, k)
		}
		c.known[k] = until
	}
}

// Forget is called for a write of "Type/id" through the proxy, which may
// have changed its codes: the cache then forgets every target it knew to
// pass nothing on, not only this one, since a target known as ordinary
// may have been so only through this one (an Observation derived from
// another whose focus is the written Condition). Labels it holds stay:
// they can only make a referrer more restricted.
func (c *Cache) Forget(typ, id string) {
	c.mu.Lock()
	c.forgets++
	if len(c.known) > 0 {
		clear(c.known)
		c.knownRing = c.knownRing[:0]
	}
	c.mu.Unlock()
}

// RulesChanged is called when the rules that label resources change
// (Labeller.SetRules): a target known to pass nothing on may now pass
// labels on, and one held with labels may now pass others (stricter or
// looser). The cache forgets every target known to pass nothing on, drops
// what a batch that began reading before the change would note as known,
// and makes every entry it holds stale: its labels still pass on until
// the target is labelled again under the new rules (Batch.Resolve fetches
// it again, as for a target unknown), when they are replaced.
func (c *Cache) RulesChanged() {
	c.mu.Lock()
	c.forgets++
	c.rules.Add(1)
	if len(c.known) > 0 {
		clear(c.known)
		c.knownRing = c.knownRing[:0]
	}
	c.mu.Unlock()
}

// rulesGen is the count of RulesChanged calls so far; a batch takes it
// when it starts, so that what it labelled under earlier rules is noted
// stale.
func (c *Cache) rulesGen() uint64 { return c.rules.Load() }

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
// code), and a resource that passes nothing on is forgotten. rules is the
// rules generation (rulesGen) when its batch started: an entry noted by a
// batch that began under earlier rules is stale at once.
func (c *Cache) note(r *Result, rules uint64) {
	if r.Type == "" || r.ID == "" {
		return
	}
	inh := inheritable(r.Effective())
	var buf [128]byte
	key := append(append(append(buf[:0], r.Type...), '/'), r.ID...)
	c.mu.RLock()
	old, ok := c.m[string(key)]
	ttl := int64(c.ttl)
	c.mu.RUnlock()
	if !ok && len(inh) == 0 && r.directory == "" {
		return
	}
	now := time.Now().UnixNano()
	if ok && old.version == r.VersionID && old.labels.Equal(inh) && old.directory == r.directory && old.rules == rules &&
		old.conflict == r.PatientConflict && samePatientList(old.patients, r) {
		// As held: noted again only once half its TTL is gone, so that
		// the resources of most responses take no write lock.
		if ttl > 0 && now-old.noted > ttl/2 {
			c.mu.Lock()
			if e, ok := c.m[string(key)]; ok && e.version == old.version && e.rules == old.rules && e.noted < now {
				e.noted = now
				c.m[string(key)] = e
			}
			c.mu.Unlock()
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(inh) == 0 && r.directory == "" {
		delete(c.m, string(key))
		return
	}
	k := string(key)
	held, ok := c.m[k]
	if !ok {
		c.evict()
		c.ring = append(c.ring, k)
	}
	noted := now
	if ok && held.rules == rules && (!inh.contains(held.labels) || (held.program != "" && r.Program == "")) {
		// Fewer labels than held under the same rules: a new version
		// that lost a code, or an older version (a vread, a _history
		// page) that never had it.
		// Its labels pass on, but the target is not known by them: the
		// next batch that refers to it reads its current version again
		// (knows). Taken as known, a vread of Condition/c1 at version 1
		// (HIV) made c1 pass on HIV alone for the known-TTL while its
		// current version was HIV and SUD (QA round 28).
		noted = 0
	}
	// The version is copied: r's strings may share a chunk with the rest of
	// its batch (strArena), which the cache would otherwise keep alive.
	c.m[k] = cacheEntry{version: strings.Clone(r.VersionID), labels: inh, program: r.Program, directory: r.directory, rules: rules,
		patients: resultPatients(r), conflict: r.PatientConflict, noted: noted}
}

// samePatientList reports whether ps are the patients of r (resultPatients).
func samePatientList(ps []string, r *Result) bool {
	if r.referred {
		return len(ps) == 0
	}
	if len(r.Patients) > 0 {
		return slices.Equal(ps, r.Patients)
	}
	if r.Patient == "" {
		return len(ps) == 0
	}
	return len(ps) == 1 && ps[0] == r.Patient
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

// NotCurrent is called for a resource a response held at a version that
// may not be its current one (a vread, a _history page), after the
// response was labelled: what the cache noted of "Type/id" still passes on,
// but is not known as all it passes on, and the next batch that refers to
// it reads its current version (knows). A first sight of Condition/c1 at
// version 1 (HIV) otherwise stood for its current version 2 (HIV and SUD)
// for the known-TTL (QA round 28).
func (l *Labeller) NotCurrent(typ, id string) {
	c := l.cache
	if c == nil || typ == "" || id == "" {
		return
	}
	key := typ + "/" + id
	c.mu.Lock()
	if e, ok := c.m[key]; ok && e.noted != 0 {
		e.noted = 0
		c.m[key] = e
	}
	c.mu.Unlock()
}

// CacheLen returns the number of resources in the label cache (0 without
// one).
func (l *Labeller) CacheLen() int {
	if l.cache == nil {
		return 0
	}
	return l.cache.Len()
}

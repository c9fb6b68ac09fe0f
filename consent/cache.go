package consent

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// DefaultCacheSize is how many patients' normalised consents a Store keeps
// unless WithCacheSize says otherwise.
const DefaultCacheSize = 4096

// WithCacheSize bounds the cache of normalised consents to n patients, least
// recently used first out; n <= 0 disables it.
func WithCacheSize(n int) Option {
	return func(s *Store) { s.cache = newNormCache(n) }
}

// Normalized returns the patient's consents (the latest version of each,
// whatever its status) in the policy input form, and the patient's consent
// version they belong to (see PatientVersion). Results are cached per patient
// and keyed by that version, which every write bumps in the same
// transaction, so a consent stored or revoked counts from the next call on.
//
// The returned slice is shared with other callers: do not modify it.
//
// A consent that no longer validates (stored under older rules) fails the
// call when it is active, since it cannot be read safely; when it is not
// active, the policy ignores it anyway and it is returned without rules.
func (s *Store) Normalized(ctx context.Context, patient string) ([]Normalized, uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("consent: normalizing consents: %w", err)
	}
	// An entry read when as many writes had ended as have now is current:
	// no write has ended since, and one still under way is concurrent with
	// this call. Every read request of the proxy asks, so this spares it a
	// read transaction.
	writes := s.writes.Load()
	if cached, version, ok := s.cache.current(patient, writes); ok {
		return cached, version, nil
	}
	var (
		version uint64
		cached  []Normalized
		hit     bool
		recs    []Record
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		version = bytesUint64(b.patientVersions.Get(b.c.patient(patient)))
		if cached, hit = s.cache.get(patient, version, writes); hit {
			return nil
		}
		recs, err = forPatient(b, patient)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("consent: normalizing consents: %w", err)
	}
	if hit {
		return cached, version, nil
	}
	ns, err := normalizeAll(recs)
	if err != nil {
		return nil, 0, err
	}
	s.cache.add(patient, version, writes, ns)
	return ns, version, nil
}

// normalizeAll normalises each record; see Store.Normalized for records that
// no longer validate.
func normalizeAll(recs []Record) ([]Normalized, error) {
	out := make([]Normalized, 0, len(recs))
	for _, rec := range recs {
		n, err := Normalize(rec)
		if err != nil && rec.Status == "active" {
			return nil, err
		}
		if err != nil {
			n = Normalized{ID: rec.ID, Version: fmt.Sprint(rec.Version), Status: rec.Status,
				Patient: rec.Patient, Policies: []string{}, Rules: []Rule{}}
		}
		out = append(out, n)
	}
	return out, nil
}

// normCache is a least-recently-used cache of normalised consents by
// patient. A nil *normCache caches nothing.
type normCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *normEntry, most recently used first
	byKey map[string]*list.Element
}

// normEntry is one patient's normalised consents at one patient version.
type normEntry struct {
	patient  string
	version  uint64
	consents []Normalized
	// writes is Store.writes as it was before the read that last found
	// the entry at its version.
	writes uint64
}

// newNormCache returns a cache of up to max patients, or nil when max <= 0.
func newNormCache(max int) *normCache {
	if max <= 0 {
		return nil
	}
	return &normCache{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

// current returns the patient's entry when it was read at writes.
func (c *normCache) current(patient string, writes uint64) ([]Normalized, uint64, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[patient]
	if !ok {
		return nil, 0, false
	}
	e := el.Value.(*normEntry)
	if e.writes != writes {
		return nil, 0, false
	}
	c.order.MoveToFront(el)
	return e.consents, e.version, true
}

// get returns the patient's entry when it is at version, found so by a
// read that started at writes.
func (c *normCache) get(patient string, version, writes uint64) ([]Normalized, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[patient]
	if !ok {
		return nil, false
	}
	e := el.Value.(*normEntry)
	if e.version != version {
		return nil, false
	}
	e.writes = max(e.writes, writes)
	c.order.MoveToFront(el)
	return e.consents, true
}

// add stores the patient's consents at version, unless a newer version is
// already cached (a slower reader must not overwrite it), and evicts the
// least recently used patient when full.
func (c *normCache) add(patient string, version, writes uint64, consents []Normalized) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[patient]; ok {
		e := el.Value.(*normEntry)
		if e.version < version || (e.version == version && e.writes < writes) {
			e.version, e.consents, e.writes = version, consents, writes
		}
		c.order.MoveToFront(el)
		return
	}
	c.byKey[patient] = c.order.PushFront(&normEntry{patient: patient, version: version, consents: consents, writes: writes})
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.byKey, oldest.Value.(*normEntry).patient)
	}
}

// len returns the number of cached patients.
func (c *normCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

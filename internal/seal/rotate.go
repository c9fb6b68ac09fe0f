package seal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"
)

// Path names a bucket whose every value is sealed, from the root bucket
// down, e.g. {"audit", "v1", "entries"}. Seal's path argument for its
// values is the names joined with "/".
type Path []string

// String joins the names with "/".
func (p Path) String() string { return strings.Join(p, "/") }

// bucket finds p in tx; nil when it does not exist (yet).
func (p Path) bucket(tx *bbolt.Tx) *bbolt.Bucket {
	b := tx.Bucket([]byte(p[0]))
	for _, name := range p[1:] {
		if b == nil {
			return nil
		}
		b = b.Bucket([]byte(name))
	}
	return b
}

// rotation is the progress of a re-encryption, kept in the seal bucket.
type rotation struct {
	To    uint32 `json:"to"`    // the key id values are re-sealed under
	Path  int    `json:"path"`  // index of the bucket being walked
	After []byte `json:"after"` // last key walked in it
}

// RotateChunk is how many values one rotation transaction re-seals.
const RotateChunk = 500

// NeedsRotation reports whether values may be sealed under another key than
// the active one: the store secret is, or a rotation is under way.
func (s *Sealer) NeedsRotation() (bool, error) {
	need := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		id, _ := Encrypted(tx)
		need = id != s.Keyring().active || tx.Bucket(rootBucket).Get(rotationKey) != nil
		return nil
	})
	return need, err
}

// Rotate re-seals every value of paths that another key sealed under the
// active key, in transactions of chunk values (RotateChunk when 0), so
// appends and reads go on meanwhile; reads accept any key of the ring. It
// records its progress after each transaction, so a Rotate after a restart
// resumes, and it starts over if the active key changes. It ends by
// re-sealing the store secret; from then on no value needs the old keys
// (Count shows it). It returns how many values it re-sealed.
func (s *Sealer) Rotate(ctx context.Context, paths []Path, chunk int) (int, error) {
	if chunk <= 0 {
		chunk = RotateChunk
	}
	total := 0
	for done := false; !done; {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("seal: rotating: %w", err)
		}
		n := 0
		err := s.db.Update(func(tx *bbolt.Tx) error {
			var err error
			n, done, err = s.rotateStep(tx, paths, chunk)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("seal: rotating: %w", err)
		}
		total += n
	}
	return total, nil
}

// rotateStep re-seals up to chunk values, or finishes.
func (s *Sealer) rotateStep(tx *bbolt.Tx, paths []Path, chunk int) (n int, done bool, err error) {
	root := tx.Bucket(rootBucket)
	if root == nil {
		return 0, false, errors.New("the store has no secret")
	}
	active := s.Keyring().active
	st := rotation{To: active}
	if v := root.Get(rotationKey); v != nil {
		if err := json.Unmarshal(v, &st); err != nil || st.To != active {
			st = rotation{To: active}
		}
	}
	if st.Path >= len(paths) {
		return 0, true, s.finishRotation(root)
	}
	if n, err = s.resealChunk(tx, paths[st.Path], &st, chunk); err != nil {
		return 0, false, err
	}
	v, _ := json.Marshal(st)
	return n, false, root.Put(rotationKey, v)
}

// resealChunk walks path after st.After, re-sealing up to chunk values.
func (s *Sealer) resealChunk(tx *bbolt.Tx, path Path, st *rotation, chunk int) (int, error) {
	b := path.bucket(tx)
	if b == nil {
		st.Path, st.After = st.Path+1, nil
		return 0, nil
	}
	type kv struct{ k, v []byte }
	var todo []kv
	c := b.Cursor()
	k, v := c.First()
	if st.After != nil {
		if k, v = c.Seek(st.After); bytes.Equal(k, st.After) {
			k, v = c.Next()
		}
	}
	for walked := 0; k != nil && len(todo) < chunk && walked < 8*chunk; k, v = c.Next() {
		walked++
		st.After = bytes.Clone(k)
		if id, ok := KeyID(v); ok && id != st.To {
			todo = append(todo, kv{bytes.Clone(k), bytes.Clone(v)})
		}
	}
	if k == nil {
		st.Path, st.After = st.Path+1, nil
	}
	name := path.String()
	for _, e := range todo {
		plain, err := s.Open(name, e.k, e.v)
		if err != nil {
			return 0, err
		}
		if err := b.Put(e.k, s.Seal(name, e.k, plain)); err != nil {
			return 0, err
		}
	}
	return len(todo), nil
}

// finishRotation re-seals the store secret under the active key and drops
// the progress record.
func (s *Sealer) finishRotation(root *bbolt.Bucket) error {
	secret, err := s.Open(secretPath, secretKey, root.Get(secretKey))
	if err != nil {
		return err
	}
	if err := root.Put(secretKey, s.Seal(secretPath, secretKey, secret)); err != nil {
		return err
	}
	return root.Delete(rotationKey)
}

// Counts says how many values of the sealed buckets each key id seals.
type Counts struct {
	// ByKey counts sealed values per key id, the store secret included.
	ByKey map[uint32]int
	// Plain counts values of sealed buckets that are not sealed (a
	// migration under way).
	Plain int
	// Secret is the key id the store secret is sealed with; Encrypted is
	// false when the store has none.
	Secret    uint32
	Encrypted bool
	// Rotating is set while a rotation is under way: its target key id.
	Rotating    bool
	RotatingTo  uint32
	RotatingAt  string // the bucket path it has reached
	BucketCount map[string]int
}

// Count reads the key id of every value of paths; it needs no key.
func Count(db *bbolt.DB, paths []Path) (Counts, error) {
	c := Counts{ByKey: map[uint32]int{}, BucketCount: map[string]int{}}
	err := db.View(func(tx *bbolt.Tx) error {
		if c.Secret, c.Encrypted = Encrypted(tx); c.Encrypted {
			c.ByKey[c.Secret]++
		}
		if root := tx.Bucket(rootBucket); root != nil && root.Get(rotationKey) != nil {
			var st rotation
			if json.Unmarshal(root.Get(rotationKey), &st) == nil {
				c.Rotating, c.RotatingTo = true, st.To
				if st.Path < len(paths) {
					c.RotatingAt = paths[st.Path].String()
				}
			}
		}
		for _, p := range paths {
			c.count(tx, p)
		}
		return nil
	})
	return c, err
}

// count adds the values of one bucket.
func (c *Counts) count(tx *bbolt.Tx, p Path) {
	b := p.bucket(tx)
	if b == nil {
		return
	}
	_ = b.ForEach(func(_, v []byte) error {
		if v == nil { // a nested bucket
			return nil
		}
		c.BucketCount[p.String()]++
		if id, ok := KeyID(v); ok {
			c.ByKey[id]++
		} else {
			c.Plain++
		}
		return nil
	})
}

// SetKeyring replaces the keyring (a reloaded key file), refusing one that
// lacks a key some stored value is sealed with, and wakes the background
// rotator (StartRotator) if the active key changed.
func (s *Sealer) SetKeyring(ring *Keyring, paths []Path) error {
	c, err := Count(s.db, paths)
	if err != nil {
		return err
	}
	for id, n := range c.ByKey {
		if n > 0 && !ring.Has(id) {
			return fmt.Errorf("seal: the new keyring lacks key id %s, which still seals %d values: %w", FormatID(id), n, ErrWrongKey)
		}
	}
	old := s.ring.Swap(ring)
	if old.active != ring.active {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// StartRotator runs Rotate in the background whenever a rotation is needed:
// now, if one is, and after each SetKeyring that changes the active key,
// until ctx ends. report receives each rotation's outcome.
func (s *Sealer) StartRotator(ctx context.Context, paths []Path, report func(n int, err error)) {
	if need, err := s.NeedsRotation(); err == nil && need {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.kick:
				n, err := s.Rotate(ctx, paths, 0)
				if ctx.Err() == nil {
					report(n, err)
				}
			}
		}
	}()
}

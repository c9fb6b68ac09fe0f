package seal

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"
)

// SealPlaintext rewrites sealed every value of bucket p that is still
// plaintext (written before the store was encrypted), in tx, and returns
// how many it sealed. It is for small buckets that a store seals in one
// transaction when it opens; a missing bucket is not an error.
func (s *Sealer) SealPlaintext(tx *bbolt.Tx, p Path) (int, error) {
	b := p.bucket(tx)
	if b == nil {
		return 0, nil
	}
	type kv struct{ k, v []byte }
	var todo []kv
	err := b.ForEach(func(k, v []byte) error {
		if _, sealed := KeyID(v); v != nil && !sealed {
			todo = append(todo, kv{bytes.Clone(k), bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	name := p.String()
	for _, e := range todo { // never write while iterating
		if err := b.Put(e.k, s.Seal(name, e.k, e.v)); err != nil {
			return 0, fmt.Errorf("seal: sealing %s: %w", name, err)
		}
	}
	return len(todo), nil
}

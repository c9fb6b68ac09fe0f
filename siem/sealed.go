package siem

import (
	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// The queue's sealed buckets: every value is sealed when the store is
// encrypted. Keys are sequence numbers and a fixed name, never PHI.
var (
	eventsPath = seal.Path{string(rootBucket), string(schemaBucket), string(eventsBucket)}
	cursorPath = seal.Path{string(rootBucket), string(schemaBucket), string(cursorBucket)}
	eventsName = eventsPath.String()
	cursorName = cursorPath.String()
)

// SealedBuckets are the queue's buckets whose every value is sealed in an
// encrypted store; key rotation (seal.Sealer.Rotate) walks them.
var SealedBuckets = []seal.Path{eventsPath, cursorPath}

// QueueOption configures OpenQueue.
type QueueOption func(*Queue)

// WithSealer encrypts the queued events and the cursor with s (AES-256-GCM,
// see internal/seal): OpenQueue seals any plaintext value left from before
// encryption. Without it, OpenQueue refuses an encrypted store.
func WithSealer(s *seal.Sealer) QueueOption {
	return func(q *Queue) { q.sealer = s }
}

// store returns the stored form of plain under key k of the bucket named
// path.
func (q *Queue) store(path string, k, plain []byte) []byte {
	if q.sealer == nil {
		return plain
	}
	return q.sealer.Seal(path, k, plain)
}

// load returns the plaintext of v stored under key k of the bucket named
// path; in an encrypted store every value must be sealed.
func (q *Queue) load(path string, k, v []byte) ([]byte, error) {
	if q.sealer == nil {
		return v, nil
	}
	return q.sealer.Open(path, k, v)
}

// checkSealing refuses an encrypted store without its sealer and, with
// one on a writable store, seals the values written in plaintext before
// encryption was on (the buckets are new in this release and small: one
// transaction).
func (q *Queue) checkSealing(tx *bbolt.Tx) error {
	if id, ok := seal.Encrypted(tx); ok && q.sealer == nil {
		return seal.EncryptedError("siem", id)
	}
	if q.sealer == nil || !tx.Writable() {
		return nil
	}
	for _, p := range SealedBuckets {
		if _, err := q.sealer.SealPlaintext(tx, p); err != nil {
			return err
		}
	}
	return nil
}

package audit

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// Reviews records that an auditor reviewed a break-the-glass disclosure.
// Records are append-only: a review is never changed or removed, a second
// review of the same entry is another record. They live in their own root
// bucket of the shared bbolt file, beside (not inside) the ledger's:
//
//	audit_review/                          root bucket
//	└── v1/
//	    ├── reviews/<review seq> → JSON    one Review
//	    ├── by_entry/<entry seq><review seq> → ""
//	    └── counters/<name> → blob         a reader's saved counters (SaveCounters)
//
// Integers are 8-byte big-endian. A review names the ledger entry by seq and
// hash, so it cannot silently move to another entry with the same seq.
//
// In an encrypted store (ReviewsWithSealer) every value of reviews and
// counters is sealed; by_entry holds only seqs and empty values.
type Reviews struct {
	db     *bbolt.DB
	now    func() time.Time
	sealer *seal.Sealer // nil: plaintext
}

// The review store's sealed buckets.
var (
	reviewsPath  = seal.Path{"audit_review", "v1", "reviews"}
	countersPath = seal.Path{"audit_review", "v1", "counters"}
	reviewsName  = reviewsPath.String()
	countersName = countersPath.String()
)

// ReviewSealedBuckets are the review store's buckets whose every value is
// sealed in an encrypted store; key rotation (seal.Sealer.Rotate) walks
// them.
var ReviewSealedBuckets = []seal.Path{reviewsPath, countersPath}

// ReviewsOption configures OpenReviews.
type ReviewsOption func(*Reviews)

// ReviewsWithSealer encrypts the reviews and saved counters with s:
// OpenReviews seals any value stored in plaintext before encryption.
// Without it, OpenReviews refuses an encrypted store.
func ReviewsWithSealer(s *seal.Sealer) ReviewsOption {
	return func(r *Reviews) { r.sealer = s }
}

// store returns the stored form of plain under key k of the bucket named
// path.
func (rs *Reviews) store(path string, k, plain []byte) []byte {
	if rs.sealer == nil {
		return plain
	}
	return rs.sealer.Seal(path, k, plain)
}

// load returns the plaintext of v stored under key k of the bucket named
// path; in an encrypted store every value must be sealed.
func (rs *Reviews) load(path string, k, v []byte) ([]byte, error) {
	if rs.sealer == nil {
		return v, nil
	}
	return rs.sealer.Open(path, k, v)
}

// checkSealing refuses an encrypted store without its sealer and, with one
// on a writable store, seals the values written before encryption (the
// buckets are new in this release and small: one transaction).
func (rs *Reviews) checkSealing(tx *bbolt.Tx) error {
	if id, ok := seal.Encrypted(tx); ok && rs.sealer == nil {
		return seal.EncryptedError("audit reviews", id)
	}
	if rs.sealer == nil || !tx.Writable() {
		return nil
	}
	for _, p := range ReviewSealedBuckets {
		if _, err := rs.sealer.SealPlaintext(tx, p); err != nil {
			return err
		}
	}
	return nil
}

// Review is one auditor's review of one ledger entry.
type Review struct {
	// Seq numbers reviews 1, 2, ...; Add assigns it.
	Seq uint64 `json:"seq"`
	// EntrySeq and EntryHash name the reviewed ledger entry.
	EntrySeq  uint64 `json:"entry_seq"`
	EntryHash string `json:"entry_hash"`
	// Reviewer is the auditor's token subject.
	Reviewer string `json:"reviewer"`
	// Time is when the review was recorded; Add sets it.
	Time time.Time `json:"time"`
	// Note is the auditor's free-text finding (at most MaxReviewNote bytes).
	Note string `json:"note"`
}

// MaxReviewNote bounds Review.Note.
const MaxReviewNote = 4096

var (
	reviewRoot     = []byte("audit_review")
	reviewSchema   = []byte("v1")
	reviewsBucket  = []byte("reviews")
	reviewByEntry  = []byte("by_entry")
	errReviewStore = errors.New("audit: the review store is missing its buckets")
)

// OpenReviews returns the review store on db, creating its buckets unless db
// is read-only.
func OpenReviews(db *bbolt.DB, opts ...ReviewsOption) (*Reviews, error) {
	r := &Reviews{db: db, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	if db.IsReadOnly() {
		return r, db.View(r.checkSealing)
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(reviewRoot)
		if err != nil {
			return err
		}
		v, err := root.CreateBucketIfNotExists(reviewSchema)
		if err != nil {
			return err
		}
		if _, err := v.CreateBucketIfNotExists(reviewsBucket); err != nil {
			return err
		}
		if _, err = v.CreateBucketIfNotExists(reviewByEntry); err != nil {
			return err
		}
		return r.checkSealing(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("audit: opening the review store: %w", err)
	}
	return r, nil
}

// reviewBuckets returns the reviews and by_entry buckets of tx.
func reviewBuckets(tx *bbolt.Tx) (reviews, byEntry *bbolt.Bucket, err error) {
	root := tx.Bucket(reviewRoot)
	if root == nil {
		return nil, nil, errReviewStore
	}
	v := root.Bucket(reviewSchema)
	if v == nil {
		return nil, nil, errReviewStore
	}
	reviews, byEntry = v.Bucket(reviewsBucket), v.Bucket(reviewByEntry)
	if reviews == nil || byEntry == nil {
		return nil, nil, errReviewStore
	}
	return reviews, byEntry, nil
}

// checkReview refuses a review that names no entry or carries too long a
// note.
func checkReview(r Review) error {
	switch {
	case r.EntrySeq == 0:
		return errors.New("audit: a review must name the entry's seq")
	case len(r.EntryHash) != 64 || strings.Trim(r.EntryHash, "0123456789abcdef") != "":
		return errors.New("audit: a review must name the entry's hash (64 hex digits)")
	case strings.TrimSpace(r.Reviewer) == "":
		return errors.New("audit: a review must name its reviewer")
	case len(r.Note) > MaxReviewNote:
		return fmt.Errorf("audit: a review note is at most %d bytes", MaxReviewNote)
	}
	return nil
}

// Add records r durably and returns it with Seq and Time set. It does not
// check that the entry exists: the caller does (e.g. with Ledger.HashAt).
func (rs *Reviews) Add(ctx context.Context, r Review) (Review, error) {
	if err := ctx.Err(); err != nil {
		return Review{}, fmt.Errorf("audit: adding a review: %w", err)
	}
	if err := checkReview(r); err != nil {
		return Review{}, err
	}
	r.Time = rs.now().UTC().Round(0)
	err := rs.db.Update(func(tx *bbolt.Tx) error {
		reviews, byEntry, err := reviewBuckets(tx)
		if err != nil {
			return err
		}
		if r.Seq, err = reviews.NextSequence(); err != nil {
			return err
		}
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		k := seqKey(r.Seq)
		if err := reviews.Put(k, rs.store(reviewsName, k, v)); err != nil {
			return err
		}
		return byEntry.Put(binary.BigEndian.AppendUint64(seqKey(r.EntrySeq), r.Seq), nil)
	})
	if err != nil {
		return Review{}, fmt.Errorf("audit: adding a review: %w", err)
	}
	return r, nil
}

// For returns the reviews of each of the entries seqs, oldest first; an
// entry never reviewed has no key in the map.
func (rs *Reviews) For(ctx context.Context, seqs []uint64) (map[uint64][]Review, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audit: reading reviews: %w", err)
	}
	out := map[uint64][]Review{}
	err := rs.db.View(func(tx *bbolt.Tx) error {
		reviews, byEntry, err := reviewBuckets(tx)
		if err != nil {
			return err
		}
		for _, seq := range seqs {
			prefix := seqKey(seq)
			c := byEntry.Cursor()
			for k, _ := c.Seek(prefix); len(k) == 16 && string(k[:8]) == string(prefix); k, _ = c.Next() {
				plain, err := rs.load(reviewsName, k[8:], reviews.Get(k[8:]))
				if err != nil {
					return err
				}
				var r Review
				if err := json.Unmarshal(plain, &r); err != nil {
					return fmt.Errorf("review %d: %w", binary.BigEndian.Uint64(k[8:]), err)
				}
				// by_entry is plaintext even when the reviews are sealed: a
				// key added there pointing at another entry's review would
				// mark this entry reviewed (and drop it from the queue of
				// unreviewed break-the-glass disclosures). Only a review
				// whose own (sealed) record names this entry counts.
				if r.EntrySeq != seq {
					continue
				}
				out[seq] = append(out[seq], r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: reading reviews: %w", err)
	}
	return out, nil
}

// countersBucket holds a reader's saved counters beside the reviews (the
// console's chart counters: per-day totals, no patient data).
var countersBucket = []byte("counters")

// SaveCounters stores blob under name, replacing the previous one.
func (rs *Reviews) SaveCounters(ctx context.Context, name string, blob []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return rs.db.Update(func(tx *bbolt.Tx) error {
		root := tx.Bucket(reviewRoot)
		if root == nil || root.Bucket(reviewSchema) == nil {
			return errReviewStore
		}
		b, err := root.Bucket(reviewSchema).CreateBucketIfNotExists(countersBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(name), rs.store(countersName, []byte(name), blob))
	})
}

// LoadCounters returns the blob saved under name, or nil.
func (rs *Reviews) LoadCounters(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []byte
	err := rs.db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket(reviewRoot)
		if root == nil || root.Bucket(reviewSchema) == nil {
			return nil
		}
		if b := root.Bucket(reviewSchema).Bucket(countersBucket); b != nil {
			v := b.Get([]byte(name))
			if v == nil {
				return nil
			}
			plain, err := rs.load(countersName, []byte(name), v)
			if err != nil {
				return err
			}
			out = append([]byte(nil), plain...)
		}
		return nil
	})
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

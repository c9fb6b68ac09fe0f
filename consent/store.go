package consent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// Bucket names; see the package doc for the tree.
var (
	rootBucket            = []byte("consent")
	schemaBucket          = []byte("v1")
	headsBucket           = []byte("heads")
	versionsBucket        = []byte("versions")
	patientsBucket        = []byte("patients")
	patientVersionsBucket = []byte("patient_versions")
)

// Store keeps every version of every consent in a bbolt database. It is safe
// for concurrent use.
type Store struct {
	db      *bbolt.DB
	maxSize int
	now     func() time.Time
	cache   *normCache // nil when disabled
	author  string     // Record.Author of the versions this Store writes
	codec   codec      // plaintext unless WithSealer
	// writes counts the write transactions that have ended (committed or
	// not); a cached entry read at the current count is current without a
	// look at the database (cache.go).
	writes atomic.Uint64
}

// Option configures a Store.
type Option func(*Store)

// WithMaxSize sets the largest consent, in bytes, that Put accepts.
func WithMaxSize(n int) Option {
	return func(s *Store) { s.maxSize = n }
}

// WithAuthor names who writes through this Store (Record.Author of every
// version it stores or revokes): the command line names itself and the
// operating-system user, so that an auditor can tell an import from the
// admin API's writes.
func WithAuthor(author string) Option {
	return func(s *Store) { s.author = author }
}

// authorKey is the context key of AuthorContext.
type authorKey struct{}

// AuthorContext names who writes through ctx (Record.Author of the version a
// write or revocation with it stores), over the Store's WithAuthor: the
// admin API names the caller of each request.
func AuthorContext(ctx context.Context, author string) context.Context {
	return context.WithValue(ctx, authorKey{}, author)
}

// authorOf is the author of a write with ctx.
func (s *Store) authorOf(ctx context.Context) string {
	if a, ok := ctx.Value(authorKey{}).(string); ok && a != "" {
		return a
	}
	return s.author
}

// WithClock sets the clock that stamps meta.lastUpdated.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open returns a Store on db, creating its buckets if needed and, with
// WithSealer, encrypting a plaintext store (see the package doc). Without
// a sealer it refuses an encrypted store, before writing anything. The
// caller owns db and closes it after the last use of the Store.
func Open(db *bbolt.DB, opts ...Option) (*Store, error) {
	s := &Store{db: db, maxSize: DefaultMaxSize, now: time.Now, cache: newNormCache(DefaultCacheSize)}
	for _, opt := range opts {
		opt(s)
	}
	if err := db.View(s.codec.check); err != nil {
		return nil, err
	}
	if err := db.Update(s.createBuckets); err != nil {
		return nil, fmt.Errorf("consent: creating buckets: %w", err)
	}
	return s, nil
}

// createBuckets creates the bucket tree drawn in the package doc and
// encrypts a plaintext store when the codec seals.
func (s *Store) createBuckets(tx *bbolt.Tx) error {
	root, err := tx.CreateBucketIfNotExists(rootBucket)
	if err != nil {
		return err
	}
	fresh := root.Bucket(schemaBucket) == nil
	schema, err := root.CreateBucketIfNotExists(schemaBucket)
	if err != nil {
		return err
	}
	for _, name := range [][]byte{headsBucket, versionsBucket, patientsBucket, patientVersionsBucket} {
		if _, err := schema.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	if !s.codec.sealed() {
		if storeVersion(schema) != plainSchema {
			return fmt.Errorf("the store has schema %d, which needs its key", storeVersion(schema))
		}
		return nil
	}
	if fresh {
		meta, err := schema.CreateBucket(metaBucket)
		if err != nil {
			return err
		}
		return meta.Put(versionMetaKey, []byte{sealedSchema})
	}
	if err := s.codec.migrateSealed(tx); err != nil {
		return fmt.Errorf("encrypting the store: %w", err)
	}
	return nil
}

// buckets are the store's buckets within one transaction.
type buckets struct {
	heads, versions, patients, patientVersions *bbolt.Bucket
	c                                          codec
}

// buckets finds the store's buckets in tx, with its codec.
func (s *Store) buckets(tx *bbolt.Tx) (buckets, error) { return bucketsOf(tx, s.codec) }

// bucketsOf finds the store's buckets in tx, read and written with c.
func bucketsOf(tx *bbolt.Tx, c codec) (buckets, error) {
	root := tx.Bucket(rootBucket)
	if root == nil || root.Bucket(schemaBucket) == nil {
		return buckets{}, errors.New("buckets missing: was the store opened with Open?")
	}
	schema := root.Bucket(schemaBucket)
	return buckets{
		heads:           schema.Bucket(headsBucket),
		versions:        schema.Bucket(versionsBucket),
		patients:        schema.Bucket(patientsBucket),
		patientVersions: schema.Bucket(patientVersionsBucket),
		c:               c,
	}, nil
}

// Put validates a FHIR R4 Consent and stores it as a new version. A consent
// without an id gets a random one (26 characters of base32, a valid FHIR id);
// one with an id becomes the next version of that consent, which may be the
// first. The store sets id, meta.versionId and meta.lastUpdated and keeps every
// earlier version. An invalid consent changes nothing and returns a
// *ValidationError listing every problem.
func (s *Store) Put(ctx context.Context, raw []byte) (Record, error) {
	return s.write(ctx, raw, writeOpts{})
}

// writeOpts say how a write chooses the consent's id and which version it
// expects to replace.
type writeOpts struct {
	// id, when set, is the id the consent must carry (update); a missing or
	// different id in the resource is a validation problem.
	id string
	// generate ignores any id in the resource and assigns a new one (create).
	generate bool
	// ifMatch, when not 0, is the version the write must replace; another
	// current version fails with ErrConflict.
	ifMatch uint64
	// importing skips a consent the store already has and refuses an
	// earlier version of one (Import).
	importing bool
}

// write validates raw and stores it as the next version of its consent.
func (s *Store) write(ctx context.Context, raw []byte, o writeOpts) (Record, error) {
	doc, err := parseForWrite(raw, s.maxSize, ReleaseAuto)
	if err != nil {
		return Record{}, err
	}
	if o.id != "" && doc.res.ID != o.id {
		return Record{}, &ValidationError{Problems: []Problem{{Path: "Consent.id",
			Message: fmt.Sprintf("is %q but the update is of %q: they must be equal", doc.res.ID, o.id)}}}
	}
	if err := ctx.Err(); err != nil {
		return Record{}, fmt.Errorf("consent: storing: %w", err)
	}
	rec := Record{
		ID:      doc.res.ID,
		Patient: doc.res.Patient.Reference,
		Status:  doc.res.Status,
		Updated: s.now().UTC().Truncate(time.Millisecond),
		Author:  s.authorOf(ctx),
	}
	generated := rec.ID == "" || o.generate
	if generated {
		rec.ID = rand.Text()
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if o.importing {
			b, err := s.buckets(tx)
			if err != nil {
				return err
			}
			if generated, err = importCheck(b, &rec, raw, generated, doc); err != nil {
				return err
			}
		}
		return put(tx, s.codec, &rec, raw, generated, o.ifMatch)
	})
	s.writes.Add(1)
	var ve *ValidationError
	var same *unchangedError
	if errors.Is(err, ErrConflict) || errors.As(err, &ve) || errors.As(err, &same) {
		return Record{}, err
	}
	if err != nil {
		return Record{}, fmt.Errorf("consent: storing %s: %w", rec.ID, err)
	}
	return rec, nil
}

// put writes rec as the next version of its consent and bumps the patient's
// counter. A version for another patient than the consent's is refused
// (patientChanged): the patient signed the consent, and its versions are
// that patient's.
func put(tx *bbolt.Tx, c codec, rec *Record, raw []byte, generated bool, ifMatch uint64) error {
	b, err := bucketsOf(tx, c)
	if err != nil {
		return err
	}
	prev, err := latest(b, rec.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if generated && err == nil {
		return errors.New("generated id already in use")
	}
	if ifMatch != 0 && prev.Version != ifMatch {
		return ErrConflict
	}
	if err == nil && prev.Patient != rec.Patient {
		return patientChanged(rec.ID, prev.Patient, rec.Patient)
	}
	rec.Version = prev.Version + 1
	if rec.JSON, err = stamp(raw, rec.ID, rec.Version, rec.Updated); err != nil {
		return fmt.Errorf("stamping meta: %w", err)
	}
	return commit(b, *rec, prev)
}

// patientChanged is the problem of a new version of consent id whose patient
// is not its earlier versions' (42 CFR 2.31(a)(1), 45 CFR 164.508(c)(1): a
// consent is the signing patient's; moving it would let another patient's
// records flow under it). It is a *ValidationError wrapping
// ErrPatientChanged.
func patientChanged(id, was, is string) error {
	return &ValidationError{Err: ErrPatientChanged, Problems: []Problem{{Path: "Consent.patient.reference",
		Message: fmt.Sprintf("is %q, but consent %s is %q's: a consent cannot move to another patient; "+
			"store a new consent for %s and revoke this one (status entered-in-error)", is, id, was, is)}}}
}

// commit stores rec as the head of its consent and keeps the patient index
// and counters in step; prev is the version it replaces (zero when none).
func commit(b buckets, rec, prev Record) error {
	if err := writeVersion(b, rec); err != nil {
		return err
	}
	if prev.Patient != "" && prev.Patient != rec.Patient {
		if err := unindexPatient(b, prev); err != nil {
			return err
		}
	}
	return indexPatient(b, rec)
}

// writeVersion stores rec's envelope and makes it the head of its consent.
func writeVersion(b buckets, rec Record) error {
	env, err := encodeEnvelope(rec)
	if err != nil {
		return err
	}
	k := versionKey(rec.ID, rec.Version)
	if err := b.versions.Put(k, b.c.seal(versionsName, k, env)); err != nil {
		return err
	}
	return b.heads.Put([]byte(rec.ID), uint64Bytes(rec.Version))
}

// indexPatient adds rec to its patient's index and bumps the patient's counter.
func indexPatient(b buckets, rec Record) error {
	if err := b.patients.Put(b.c.patientKey(rec.Patient, rec.ID), nil); err != nil {
		return err
	}
	return bumpPatient(b, rec.Patient)
}

// unindexPatient removes an earlier version's patient from the index and bumps
// that patient's counter, since their set of consents changed.
func unindexPatient(b buckets, prev Record) error {
	if err := b.patients.Delete(b.c.patientKey(prev.Patient, prev.ID)); err != nil {
		return err
	}
	return bumpPatient(b, prev.Patient)
}

// bumpPatient increments the change counter of patient.
func bumpPatient(b buckets, patient string) error {
	k := b.c.patient(patient)
	n := bytesUint64(b.patientVersions.Get(k)) + 1
	return b.patientVersions.Put(k, uint64Bytes(n))
}

// Get returns the latest version of the consent with the given id, or
// ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, fmt.Errorf("consent: getting %s: %w", id, err)
	}
	var rec Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		rec, err = latest(b, id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("consent: getting %s: %w", id, err)
	}
	return rec, nil
}

// ForPatient returns the latest version of each consent of patient
// ("Patient/<id>"), whatever its status, ordered by consent id. It returns an
// empty slice when the patient has none.
func (s *Store) ForPatient(ctx context.Context, patient string) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("consent: listing consents: %w", err)
	}
	recs := []Record{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		recs, err = forPatient(b, patient)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("consent: listing consents: %w", err)
	}
	return recs, nil
}

// forPatient reads the patient index and each indexed consent's head.
func forPatient(b buckets, patient string) ([]Record, error) {
	prefix := b.c.patientKey(patient, "")
	recs := []Record{}
	c := b.patients.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		rec, err := latest(b, string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		if rec.Patient != patient { // an HMAC collision, never seen in practice
			continue
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// PatientVersion returns a counter that changes whenever any consent of
// patient is stored, including a consent moving to or from the patient; 0
// means the patient never had one. Caches of decisions key on it.
func (s *Store) PatientVersion(ctx context.Context, patient string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("consent: reading patient version: %w", err)
	}
	var n uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := s.buckets(tx)
		if err != nil {
			return err
		}
		n = bytesUint64(b.patientVersions.Get(b.c.patient(patient)))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("consent: reading patient version: %w", err)
	}
	return n, nil
}

// latest reads the head version of consent id, copied out of the transaction.
func latest(b buckets, id string) (Record, error) {
	head := b.heads.Get([]byte(id))
	if head == nil {
		return Record{}, ErrNotFound
	}
	version := bytesUint64(head)
	rec, err := b.version(id, version)
	if errors.Is(err, ErrNotFound) {
		return Record{}, fmt.Errorf("version %d of %s missing", version, id)
	}
	return rec, err
}

// version reads one stored version, or ErrNotFound.
func (b buckets) version(id string, version uint64) (Record, error) {
	k := versionKey(id, version)
	env := b.versions.Get(k)
	if env == nil {
		return Record{}, ErrNotFound
	}
	env, err := b.c.open(versionsName, k, env)
	if err != nil {
		return Record{}, err
	}
	return decodeEnvelope(id, version, env)
}

// versionKey is id, 0x00, then the big-endian version.
func versionKey(id string, version uint64) []byte {
	k := make([]byte, 0, len(id)+9)
	k = append(k, id...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, version)
}

// uint64Bytes encodes n big-endian.
func uint64Bytes(n uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, n)
}

// bytesUint64 decodes a big-endian counter; nil is 0.
func bytesUint64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

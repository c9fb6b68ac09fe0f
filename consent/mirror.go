package consent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// The upstream mirror's buckets, under the schema bucket (see the package
// doc): consents it holds by id, its patient index, and when it was last
// synchronised.
var (
	mirrorBucket         = []byte("upstream")
	mirrorConsentsBucket = []byte("consents")
	mirrorPatientsBucket = []byte("patients")
	mirrorMetaBucket     = []byte("meta")
	mirrorSyncedKey      = []byte("synced")
)

// Mirror keeps the consents read from the upstream FHIR server (source
// upstream) in the store's bbolt file, apart from ds4p's own consents, so
// that a restarted proxy resumes synchronising from where it stopped
// instead of reading everything again. It is safe for concurrent use.
type Mirror struct {
	db *bbolt.DB
	c  codec
}

// Mirror returns the store's mirror of upstream consents, encrypted as the
// store is.
func (s *Store) Mirror() *Mirror { return &Mirror{db: s.db, c: s.codec} }

// envelope opens and decodes the mirrored consent id stored as v.
func (m *Mirror) envelope(id string, v []byte) (Record, error) {
	if v == nil {
		return Record{}, errors.New("a mirrored consent is missing (its id is not logged: a PUT chooses it)")
	}
	env, err := m.c.open(mirrorConsentsName, []byte(id), v)
	if err != nil {
		return Record{}, err
	}
	return decodeEnvelope(id, 0, env)
}

// MirrorEntry is one upstream consent as the upstream sent it.
type MirrorEntry struct {
	// ID is the upstream's id; <id>/_history/<n> names an older version
	// the same answer listed, kept beside the current one (whose entry,
	// in Apply, drops those kept before; put them after it).
	ID      string
	Patient string // "Patient/<id>"; "" in Apply: the consent is gone
	JSON    []byte
}

// mirrorBuckets returns the mirror's buckets, creating them when missing
// (only in a writable transaction; nil otherwise).
func mirrorBuckets(tx *bbolt.Tx) (consents, patients, meta *bbolt.Bucket, err error) {
	root := tx.Bucket(rootBucket)
	if root == nil || root.Bucket(schemaBucket) == nil {
		return nil, nil, nil, fmt.Errorf("buckets missing: was the store opened with Open?")
	}
	schema := root.Bucket(schemaBucket)
	up := schema.Bucket(mirrorBucket)
	if up == nil && tx.Writable() {
		if up, err = schema.CreateBucket(mirrorBucket); err != nil {
			return nil, nil, nil, err
		}
	}
	if up == nil {
		return nil, nil, nil, nil
	}
	get := func(name []byte) (*bbolt.Bucket, error) {
		if b := up.Bucket(name); b != nil || !tx.Writable() {
			return b, nil
		}
		return up.CreateBucket(name)
	}
	if consents, err = get(mirrorConsentsBucket); err != nil {
		return nil, nil, nil, err
	}
	if patients, err = get(mirrorPatientsBucket); err != nil {
		return nil, nil, nil, err
	}
	meta, err = get(mirrorMetaBucket)
	return consents, patients, meta, err
}

// Apply stores the consents of one synchronisation round, and when it was
// taken, in one transaction. A full round replaces everything the mirror
// held; an incremental one adds and replaces consents by id (a consent that
// moved to another patient leaves the old one), and removes those of
// entries without a patient (gone: no longer mirrored).
func (m *Mirror) Apply(ctx context.Context, entries []MirrorEntry, full bool, syncedAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("consent: mirroring: %w", err)
	}
	err := m.db.Update(func(tx *bbolt.Tx) error {
		if full {
			if up := tx.Bucket(rootBucket).Bucket(schemaBucket).Bucket(mirrorBucket); up != nil {
				if err := tx.Bucket(rootBucket).Bucket(schemaBucket).DeleteBucket(mirrorBucket); err != nil {
					return err
				}
			}
		}
		consents, patients, meta, err := mirrorBuckets(tx)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !strings.Contains(e.ID, historySep) {
				// The consent's current version or its going: the older
				// versions kept beside the one it replaces go.
				if err := m.dropOlder(consents, patients, e.ID); err != nil {
					return err
				}
			}
			if e.Patient == "" { // gone: the upstream's consent is no longer mirrored
				if prev := consents.Get([]byte(e.ID)); prev != nil {
					if rec, err := m.envelope(e.ID, prev); err == nil {
						if err := patients.Delete(m.c.patientKey(rec.Patient, e.ID)); err != nil {
							return err
						}
					}
					if err := consents.Delete([]byte(e.ID)); err != nil {
						return err
					}
				}
				continue
			}
			if prev := consents.Get([]byte(e.ID)); prev != nil {
				if rec, err := m.envelope(e.ID, prev); err == nil && rec.Patient != e.Patient {
					if err := patients.Delete(m.c.patientKey(rec.Patient, e.ID)); err != nil {
						return err
					}
				}
			}
			env, err := encodeEnvelope(Record{ID: e.ID, Patient: e.Patient, JSON: e.JSON})
			if err != nil {
				return err
			}
			if err := consents.Put([]byte(e.ID), m.c.seal(mirrorConsentsName, []byte(e.ID), env)); err != nil {
				return err
			}
			if err := patients.Put(m.c.patientKey(e.Patient, e.ID), nil); err != nil {
				return err
			}
		}
		at, err := json.Marshal(syncedAt.UTC())
		if err != nil {
			return err
		}
		return meta.Put(mirrorSyncedKey, at)
	})
	if err != nil {
		return fmt.Errorf("consent: mirroring: %w", err)
	}
	return nil
}

// historySep separates, in a mirrored entry's ID, a consent's id from the
// name of an older version of it kept beside the current one
// (<id>/_history/<n>).
const historySep = "/_history/"

// dropOlder removes the older versions of consent id kept beside it.
func (m *Mirror) dropOlder(consents, patients *bbolt.Bucket, id string) error {
	prefix := []byte(id + historySep)
	var keys [][]byte
	c := consents.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if rec, err := m.envelope(string(k), consents.Get(k)); err == nil {
			if err := patients.Delete(m.c.patientKey(rec.Patient, string(k))); err != nil {
				return err
			}
		}
		if err := consents.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Load returns every mirrored consent and when the mirror was last
// synchronised (zero when never).
func (m *Mirror) Load(ctx context.Context) ([]MirrorEntry, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("consent: reading the mirror: %w", err)
	}
	var (
		out    []MirrorEntry
		synced time.Time
	)
	err := m.db.View(func(tx *bbolt.Tx) error {
		consents, _, meta, err := mirrorBuckets(tx)
		if err != nil || consents == nil {
			return err
		}
		if at := meta.Get(mirrorSyncedKey); at != nil {
			if err := json.Unmarshal(at, &synced); err != nil {
				return err
			}
		}
		return consents.ForEach(func(k, v []byte) error {
			rec, err := m.envelope(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, MirrorEntry{ID: rec.ID, Patient: rec.Patient, JSON: rec.JSON})
			return nil
		})
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("consent: reading the mirror: %w", err)
	}
	return out, synced, nil
}

// ForPatient returns the mirrored consents of patient, by id.
func (m *Mirror) ForPatient(ctx context.Context, patient string) ([]MirrorEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("consent: reading the mirror: %w", err)
	}
	var out []MirrorEntry
	err := m.db.View(func(tx *bbolt.Tx) error {
		consents, patients, _, err := mirrorBuckets(tx)
		if err != nil || consents == nil {
			return err
		}
		prefix := m.c.patientKey(patient, "")
		c := patients.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := string(k[len(prefix):])
			rec, err := m.envelope(id, consents.Get([]byte(id)))
			if err != nil {
				return err
			}
			if rec.Patient != patient { // an HMAC collision, never seen in practice
				continue
			}
			out = append(out, MirrorEntry{ID: id, Patient: rec.Patient, JSON: rec.JSON})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("consent: reading the mirror: %w", err)
	}
	return out, nil
}

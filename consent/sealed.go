package consent

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// The store's schema versions (meta "version"): 1 is plaintext (no meta
// bucket); 2 seals every envelope and keys the patient indexes by an HMAC
// of the patient.
const (
	plainSchema  = 1
	sealedSchema = 2
)

// The sealed buckets and the meta bucket.
var (
	versionsPath       = seal.Path{"consent", "v1", "versions"}
	mirrorConsentsPath = seal.Path{"consent", "v1", "upstream", "consents"}
	versionsName       = versionsPath.String()
	mirrorConsentsName = mirrorConsentsPath.String()
	metaBucket         = []byte("meta")
	versionMetaKey     = []byte("version")
)

// SealedBuckets are the store's buckets whose every value is sealed in an
// encrypted store; key rotation (seal.Sealer.Rotate) walks them.
var SealedBuckets = []seal.Path{versionsPath, mirrorConsentsPath}

// WithSealer encrypts the store with s (see the package doc): Open
// migrates a plaintext store. Without it, Open refuses an encrypted store.
func WithSealer(s *seal.Sealer) Option {
	return func(st *Store) { st.codec = codec{s: s} }
}

// codec turns envelopes and patients into stored bytes: plaintext (s nil)
// or sealed envelopes and HMAC patient keys.
type codec struct{ s *seal.Sealer }

// sealed reports whether the store is encrypted.
func (c codec) sealed() bool { return c.s != nil }

// seal returns the stored form of an envelope stored under key k of path.
func (c codec) seal(path string, k, env []byte) []byte {
	if !c.sealed() {
		return env
	}
	return c.s.Seal(path, k, env)
}

// open returns the envelope stored as v under key k of path.
func (c codec) open(path string, k, v []byte) ([]byte, error) {
	if !c.sealed() || v == nil {
		return v, nil
	}
	return c.s.Open(path, k, v)
}

// patient is what stands for patient in index keys: the patient itself in
// plaintext, its 16-byte HMAC when sealed.
func (c codec) patient(patient string) []byte {
	if !c.sealed() {
		return []byte(patient)
	}
	return c.s.IndexKey("consent patient", patient)
}

// patientKey is patient (or its HMAC), 0x00, then the consent id.
func (c codec) patientKey(patient, id string) []byte {
	p := c.patient(patient)
	k := make([]byte, 0, len(p)+1+len(id))
	return append(append(append(k, p...), 0), id...)
}

// check refuses an encrypted store without its sealer, and a store of a
// newer release's layout (opened after a downgrade), which this one would
// take as its own and write its layout into.
func (c codec) check(tx *bbolt.Tx) error {
	if id, ok := seal.Encrypted(tx); ok && !c.sealed() {
		return seal.EncryptedError("consent", id)
	}
	if root := tx.Bucket(rootBucket); root != nil {
		if schema := root.Bucket(schemaBucket); schema != nil {
			if v := storeVersion(schema); v > sealedSchema {
				return fmt.Errorf("consent: the store was written by a newer ds4p: schema %d, where this ds4p reads up to %d; "+
					"run the release that wrote it (nothing was written)", v, sealedSchema)
			}
		}
	}
	return nil
}

// storeVersion reads the schema version; a store without one is plaintext.
func storeVersion(schema *bbolt.Bucket) byte {
	meta := schema.Bucket(metaBucket)
	if meta == nil {
		return plainSchema
	}
	if v := meta.Get(versionMetaKey); len(v) == 1 {
		return v[0]
	}
	return plainSchema
}

// migrateSealed encrypts a plaintext store in one transaction: every
// envelope (its own and the mirror's) is sealed in place and the patient
// indexes and counters are rekeyed by HMAC. Consent stores are small
// (thousands of consents), so one transaction is enough, and a crash leaves
// the store as it was.
func (c codec) migrateSealed(tx *bbolt.Tx) error {
	schema := tx.Bucket(rootBucket).Bucket(schemaBucket)
	if storeVersion(schema) >= sealedSchema {
		return nil
	}
	if err := c.sealAll(schema.Bucket(versionsBucket), versionsName); err != nil {
		return err
	}
	if err := c.rekeyPatients(schema, patientsBucket, true); err != nil {
		return err
	}
	if err := c.rekeyPatients(schema, patientVersionsBucket, false); err != nil {
		return err
	}
	if up := schema.Bucket(mirrorBucket); up != nil {
		if err := c.sealAll(up.Bucket(mirrorConsentsBucket), mirrorConsentsName); err != nil {
			return err
		}
		if err := c.rekeyPatients(up, mirrorPatientsBucket, true); err != nil {
			return err
		}
	}
	meta, err := schema.CreateBucketIfNotExists(metaBucket)
	if err != nil {
		return err
	}
	return meta.Put(versionMetaKey, []byte{sealedSchema})
}

// sealAll seals every value of b in place.
func (c codec) sealAll(b *bbolt.Bucket, path string) error {
	if b == nil {
		return nil
	}
	var keys, values [][]byte
	_ = b.ForEach(func(k, v []byte) error {
		keys, values = append(keys, bytes.Clone(k)), append(values, bytes.Clone(v))
		return nil
	})
	for i, k := range keys {
		if _, sealed := seal.KeyID(values[i]); sealed {
			return fmt.Errorf("%s holds a sealed value in a plaintext store", path)
		}
		if err := b.Put(k, c.seal(path, k, values[i])); err != nil {
			return err
		}
	}
	return nil
}

// rekeyPatients replaces bucket name of parent by one keyed by the
// patient's HMAC: keys patient|id when withID, else patient; values kept.
func (c codec) rekeyPatients(parent *bbolt.Bucket, name []byte, withID bool) error {
	old := parent.Bucket(name)
	if old == nil {
		return nil
	}
	type kv struct{ k, v []byte }
	var rekeyed []kv
	err := old.ForEach(func(k, v []byte) error {
		patient, id := k, []byte(nil)
		if withID {
			var ok bool
			if patient, id, ok = bytes.Cut(k, []byte{0}); !ok {
				return errors.New("malformed patient index key")
			}
		}
		nk := c.patient(string(patient))
		if withID {
			nk = append(append(nk, 0), id...)
		}
		rekeyed = append(rekeyed, kv{nk, bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return err
	}
	if err := parent.DeleteBucket(name); err != nil {
		return err
	}
	b, err := parent.CreateBucket(name)
	if err != nil {
		return err
	}
	for _, e := range rekeyed {
		if err := b.Put(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

package consent

import (
	"bytes"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// TestNewerSchemaRefusedQA40G (QA round 40, helper G, on 12c9151): a
// consent store whose schema version is above the ones this ds4p knows
// (written by a newer release, opened after a downgrade) was taken as
// current with a storage key (migrateSealed: "already sealed"), and this
// release went on writing its own layout into it; without a key it was
// told "needs its key". The ledger refuses such a file since 12c9151; the
// consent store beside it in the same ds4p.db now does too, writing
// nothing.
func TestNewerSchemaRefusedQA40G(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	sealer := testSealer(t, db)
	s, err := Open(db, WithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), []byte(consentOf(t, "Patient/p1", "c1"))); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(rootBucket).Bucket(schemaBucket).Bucket(metaBucket).Put(versionMetaKey, []byte{sealedSchema + 1})
	}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, db)
	if _, err := Open(db, WithSealer(sealer)); err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), "schema 3") {
		t.Errorf("a store of schema 3 opened with its key: %v; want refused as written by a newer ds4p", err)
	}
	if after := dump(t, db); !bytes.Equal(after, before) {
		t.Error("opening the newer store wrote to it")
	}
}

// dump is every key and value of db, as one byte string.
func dump(t *testing.T, db *bbolt.DB) []byte {
	t.Helper()
	var b bytes.Buffer
	var walk func(bk *bbolt.Bucket)
	walk = func(bk *bbolt.Bucket) {
		_ = bk.ForEach(func(k, v []byte) error {
			b.Write(k)
			b.WriteByte('=')
			if v == nil {
				b.WriteByte('{')
				walk(bk.Bucket(k))
				b.WriteByte('}')
			} else {
				b.Write(v)
			}
			b.WriteByte(';')
			return nil
		})
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bbolt.Bucket) error {
			b.Write(name)
			walk(bk)
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

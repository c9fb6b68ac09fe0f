package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"go.etcd.io/bbolt"
)

// writeSchema1 writes n varied entries in the schema-1 layout (entries, a
// patient|seq index, the head; no meta, no secondary indexes), as a ledger
// written before the indexes existed.
func writeSchema1(t *testing.T, db *bbolt.DB, n int) {
	t.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		root, _ := tx.CreateBucketIfNotExists(rootBucket)
		schema, _ := root.CreateBucketIfNotExists(schemaBucket)
		entries, _ := schema.CreateBucketIfNotExists(entriesBucket)
		patients, _ := schema.CreateBucketIfNotExists(legacyPatientsBucket)
		head, _ := schema.CreateBucketIfNotExists(headBucket)
		prev := GenesisHash
		for i := 1; i <= n; i++ {
			e := canonical(sample(i, []string{"Patient/b", "Patient/a"}[i%2]))
			if i%3 == 0 {
				e.Caller.Org = "Organization/y"
			}
			e.Seq, e.PrevHash = uint64(i), prev
			v, err := link(&e, sha256.New)
			if err != nil {
				return err
			}
			_ = entries.Put(seqKey(e.Seq), v)
			k := binary.BigEndian.AppendUint64(append([]byte(e.Patient), 0), e.Seq)
			_ = patients.Put(k, nil)
			prev = e.Hash
		}
		return head.Put(headKey, append(seqKey(uint64(n)), prev...))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateSchema1 checks that Open builds the indexes of a schema-1
// ledger, drops the old index, records the version, and that the result
// verifies, answers index queries and takes appends.
func TestMigrateSchema1(t *testing.T) {
	t.Parallel()
	for _, chunk := range []int{migrateChunk, 7} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			t.Parallel()
			db := openDB(t)
			writeSchema1(t, db, 20)
			if err := db.Update((&Ledger{}).createBuckets); err != nil {
				t.Fatal(err)
			}
			if err := migrate(db, chunk); err != nil {
				t.Fatal(err)
			}
			l, err := Open(db)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := l.Verify(t.Context()); err != nil || n != 20 {
				t.Fatalf("Verify after migration = %d, %v", n, err)
			}
			got, err := l.Find(t.Context(), Query{Recipient: "Organization/y", Patient: "Patient/b"})
			if err != nil || fmt.Sprint(seqs(got)) != "[6 12 18]" {
				t.Errorf("Find by recipient and patient = %v, %v", seqs(got), err)
			}
			_ = db.View(func(tx *bbolt.Tx) error {
				schema := tx.Bucket(rootBucket).Bucket(schemaBucket)
				if schema.Bucket(legacyPatientsBucket) != nil {
					t.Error("the schema-1 patient index is still there")
				}
				if v := readVersion(schema.Bucket(metaBucket)); v != schemaVersion {
					t.Errorf("version %d after migration", v)
				}
				return nil
			})
			if err := l.Append(t.Context(), sample(21, "Patient/a")); err != nil {
				t.Fatal(err)
			}
			if n, err := l.Verify(t.Context()); err != nil || n != 21 {
				t.Errorf("Verify after an append = %d, %v", n, err)
			}
		})
	}
}

// TestOpenReadOnly checks that a read-only database opens a current ledger
// and refuses an unmigrated one with a clear error.
func TestOpenReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/ds4p.db"
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeSchema1(t, db, 3)
	_ = db.Close()
	ro := func() *bbolt.DB {
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 1e9})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db = ro()
	if _, err := Open(db); err == nil {
		t.Error("a read-only schema-1 ledger opened")
	}
	_ = db.Close()
	db, _ = bbolt.Open(path, 0o600, nil)
	if _, err := Open(db); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	db = ro()
	defer db.Close()
	l, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 3 {
		t.Errorf("read-only Verify = %d, %v", n, err)
	}
	if err := l.Append(t.Context(), sample(4, "Patient/a")); err == nil {
		t.Error("Append on a read-only ledger succeeded")
	}
}

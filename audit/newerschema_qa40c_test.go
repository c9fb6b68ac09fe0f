package audit

import (
	"errors"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// TestNewerSchemaRefusedQA40C (QA round 40, area C): a ledger whose schema
// version is above the ones this ds4p knows (written by a newer release,
// then opened after a downgrade) was taken as current, and this release
// went on appending its own layout into it. Open refuses it, read-only and
// read-write, before anything is written.
func TestNewerSchemaRefusedQA40C(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l, err := Open(db, WithJournalSize(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(t.Context(), Entry{RequestID: "r1", Patient: "Patient/p1", Interaction: "read"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(rootBucket).Bucket(schemaBucket).Bucket(metaBucket).Put(versionKey, []byte{sealedSchemaVersion + 1})
	}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, db)
	l, err = Open(db, WithJournalSize(0))
	if err == nil {
		_ = l.Close()
		t.Fatal("a ledger of a newer schema opened")
	}
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "schema 4") {
		t.Errorf("error %q, want ErrNewerSchema naming schema 4", err)
	}
	if after := snapshot(t, db); after != before {
		t.Error("opening the newer ledger wrote to it")
	}
}

// snapshot is every key and value of db, as one string.
func snapshot(t *testing.T, db *bbolt.DB) string {
	t.Helper()
	var sb strings.Builder
	var walk func(b *bbolt.Bucket)
	walk = func(b *bbolt.Bucket) {
		_ = b.ForEach(func(k, v []byte) error {
			sb.Write(k)
			sb.WriteByte('=')
			if v == nil {
				sb.WriteByte('{')
				walk(b.Bucket(k))
				sb.WriteByte('}')
			} else {
				sb.Write(v)
			}
			sb.WriteByte(';')
			return nil
		})
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			sb.Write(name)
			walk(b)
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

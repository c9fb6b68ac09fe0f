//go:build linux

package stages

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// BenchmarkDurableWrite measures the floor under the ledger's durability
// wait on this machine's disk, for one small entry per write:
//
//   - bbolt: a commit of one 600-byte value into a bucket nested as the
//     ledger's are (audit/v1/entries, with the head beside it), fsynced
//     as the ledger's are: bbolt writes the dirty pages, fdatasyncs, writes
//     its meta page and fdatasyncs again;
//   - journal: a 700-byte record written into a file whose blocks were
//     written and synced beforehand, then one fdatasync: what a
//     write-ahead journal in front of bbolt would wait for.
//
// The gap between the two is what such a journal could take off every
// response's ledger wait (README, "Targets and where they stand").
//
//	go test -run '^$' -bench DurableWrite -benchtime 2000x ./test/bench/stages/
func BenchmarkDurableWrite(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) {
		db, err := bbolt.Open(filepath.Join(b.TempDir(), "x.db"), 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		names := [][]byte{[]byte("audit"), []byte("v1"), []byte("entries"), []byte("head")}
		if err := db.Update(func(tx *bbolt.Tx) error {
			a, err := tx.CreateBucketIfNotExists(names[0])
			if err != nil {
				return err
			}
			v, err := a.CreateBucketIfNotExists(names[1])
			if err != nil {
				return err
			}
			if _, err := v.CreateBucketIfNotExists(names[2]); err != nil {
				return err
			}
			_, err = v.CreateBucketIfNotExists(names[3])
			return err
		}); err != nil {
			b.Fatal(err)
		}
		val := make([]byte, 600)
		seq := uint64(0)
		for b.Loop() {
			seq++
			if err := db.Update(func(tx *bbolt.Tx) error {
				v := tx.Bucket(names[0]).Bucket(names[1])
				k := binary.BigEndian.AppendUint64(nil, seq)
				if err := v.Bucket(names[2]).Put(k, val); err != nil {
					return err
				}
				return v.Bucket(names[3]).Put([]byte("head"), k)
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("journal", func(b *testing.B) {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "journal"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		const rec = 700
		// Written and synced beforehand, so an append changes neither the
		// file's size nor its block map and fdatasync flushes data only.
		const size = 16 << 20 // wrapped around: a journal reuses its segments
		if _, err := f.WriteAt(make([]byte, size), 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, rec)
		off := int64(0)
		for b.Loop() {
			if _, err := f.WriteAt(buf, off%size); err != nil {
				b.Fatal(err)
			}
			if err := unix.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
			off += rec
		}
	})
}

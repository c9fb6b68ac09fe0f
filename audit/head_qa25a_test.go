package audit

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// TestOpenRefusesHeadBehindEntries: the head is what the next append
// continues. Set back (a plaintext head rewritten, an older sealed head
// restored from a backup) or deleted (a few bytes, no key needed), it made
// the next appends overwrite the entries after it: the disclosures there
// were destroyed, not just hidden, and the file then read as a chain broken
// at the first old entry left. A read-write Open refuses such a file.
func TestOpenRefusesHeadBehindEntries(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		for _, how := range []string{"set back", "deleted"} {
			t.Run(fmt.Sprintf("sealed=%v/%s", sealed, how), func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "ds4p.db")
				db := openFile(t, path)
				var opts []Option
				if sealed {
					opts = []Option{WithSealer(openSealer(t, db, testKey(t, true)))}
				}
				l, err := Open(db, opts...)
				if err != nil {
					t.Fatal(err)
				}
				appendSamples(t, l, 3)
				var older []byte // the head as it was at seq 3 (a backup's)
				tamper(t, l, func(t *testing.T, b buckets) { older = append([]byte(nil), b.head.Get(headKey)...) })
				appendSamples(t, l, 2) // seqs 4 and 5
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				err = db.Update(func(tx *bbolt.Tx) error {
					head := tx.Bucket(rootBucket).Bucket(schemaBucket).Bucket(headBucket)
					if how == "deleted" {
						return head.Delete(headKey)
					}
					return head.Put(headKey, older)
				})
				if err != nil {
					t.Fatal(err)
				}
				if l, err = Open(db, opts...); err == nil {
					err := l.Append(t.Context(), sample(9, "Patient/z")) // overwrites seq 4, or 1
					_ = l.Close()
					t.Fatalf("Open of a ledger whose head (%s) is behind its entries 1-5 succeeded (an append then: %v)", how, err)
				}
				if !strings.Contains(err.Error(), "past its head") {
					t.Errorf("Open = %v, want it to say the entries go on past the head", err)
				}
			})
		}
	}
}

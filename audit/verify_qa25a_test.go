package audit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestVerifyStrayKeyAtChunkBoundary: a key in the entries bucket that is
// no seq (seqKey(N) with a byte more) sorts between entries N and N+1.
// Verify reads the chain in chunks, each starting with a Seek to the next
// seq, so such a key right after a chunk's last entry was never read:
// verify passed a file holding an extra entry (a fake disclosure, in a
// plaintext ledger, that EntriesAfter hands the SIEM export and the
// console; an unopenable value in an encrypted one, which stops them).
// Inside a chunk the same key is reported.
func TestVerifyStrayKeyAtChunkBoundary(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		for _, after := range []uint64{2, 3, 6, 7} { // chunks of 3: 3 and 6 end one, 7 is the head
			t.Run(fmt.Sprintf("sealed=%v/after=%d", sealed, after), func(t *testing.T) {
				t.Parallel()
				_, l, _ := newLedgerMaybeSealed(t, sealed)
				l.verifyChunk = 3
				appendSamples(t, l, 7)
				if _, err := l.Verify(t.Context()); err != nil {
					t.Fatalf("Verify before tampering: %v", err)
				}
				tamper(t, l, func(t *testing.T, b buckets) {
					stray := append(seqKey(after), 'x')
					if err := b.entries.Put(stray, b.entries.Get(seqKey(after))); err != nil {
						t.Fatal(err)
					}
				})
				_, err := l.Verify(t.Context())
				var broken *BrokenError
				if !errors.As(err, &broken) || !strings.Contains(broken.Reason, "malformed key") {
					t.Errorf("Verify with a stray entries key after seq %d = %v, want a broken chain naming the malformed key", after, err)
				}
			})
		}
	}
}

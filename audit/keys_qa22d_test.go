package audit

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// keysEntries are entries whose index values take every path of
// appendValues: no patient, subject equal to org, duplicate and unsorted
// purposes, more values than keysOf's stack buffer holds, break-the-glass.
func keysEntries() []Entry {
	many := Entry{Patient: "Patient/m", Caller: Party{Subject: "s", Org: "o"}}
	for i := 40; i > 0; i-- {
		many.Purposes = append(many.Purposes, fmt.Sprintf("P%02d", i%25))
	}
	bg := sample(3, "Patient/bg")
	bg.BreakGlass = &BreakGlass{Reason: "emergency", Recipient: "Practitioner/dr1", Affiliation: "Organization/x", DisclosedBy: "ds4p proxy"}
	bg.Purposes = []string{"TREAT", "ETREAT", "TREAT", ""}
	same := sample(4, "")
	same.Caller.Org = same.Caller.Subject
	same.Purposes = nil
	return []Entry{sample(1, "Patient/a"), {Seq: 9}, many, bg, same}
}

// TestKeysOfMatchesIndexKeys holds keysOf, which builds every key of an
// entry in one buffer, to the keys each index gives on its own (what
// Verify and deleteIndexKeys compare with), in a plain and a sealed
// ledger, and to keys that do not share their backing array's room.
func TestKeysOfMatchesIndexKeys(t *testing.T) {
	db := openFile(t, filepath.Join(t.TempDir(), "k.db"))
	defer db.Close()
	codecs := map[string]codec{"plain": {}, "sealed": {s: openSealer(t, db, testKey(t, true))}}
	for name, c := range codecs {
		for i, e := range keysEntries() {
			e.Seq = uint64(i + 1)
			got := keysOf(c, &e)
			if got.seq != e.Seq {
				t.Errorf("%s entry %d: seq %d", name, i, got.seq)
			}
			var want []ixKey
			for _, ix := range indexes {
				for _, k := range ix.keys(c, &e) {
					want = append(want, ixKey{ix, k})
				}
			}
			if len(got.keys) != len(want) {
				t.Fatalf("%s entry %d: %d keys, want %d", name, i, len(got.keys), len(want))
			}
			for j := range want {
				if got.keys[j].ix != want[j].ix || !bytes.Equal(got.keys[j].key, want[j].key) {
					t.Errorf("%s entry %d key %d: %s %x, want %s %x", name, i, j, got.keys[j].ix.name, got.keys[j].key, want[j].ix.name, want[j].key)
				}
				if k := got.keys[j].key; cap(k) != len(k) {
					t.Errorf("%s entry %d key %d: room after the key (cap %d, len %d): an append would overwrite the next", name, i, j, cap(k), len(k))
				}
			}
		}
	}
}

// TestKeysOfAllocations: a read's entry's keys take two allocations (the
// bytes and the list), not one or more per index and key (18 before).
func TestKeysOfAllocations(t *testing.T) {
	e := sample(1, "Patient/a")
	e.Seq = 1
	if n := testing.AllocsPerRun(100, func() { _ = keysOf(codec{}, &e) }); n > 2 {
		t.Errorf("keysOf: %v allocations, want at most 2", n)
	}
	var err error
	if n := testing.AllocsPerRun(100, func() { err = checkIndexable(&e) }); n > 0 || err != nil {
		t.Errorf("checkIndexable: %v allocations (error %v), want none", n, err)
	}
}

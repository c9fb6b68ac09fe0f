package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// TestLinkAllocations: linking a read's entry takes four allocations (the
// buffer, the hash, its sum and the hex string), where it took seven
// (MarshalJSON's time, the previous hash as bytes, the hex's bytes).
// Its output stays Marshal's bytes with the hash of prev || body.
func TestLinkAllocations(t *testing.T) {
	e := sample(1, "Patient/a")
	e.Seq, e.PrevHash = 7, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	var out []byte
	var err error
	if n := testing.AllocsPerRun(100, func() { out, err = link(&e, sha256.New) }); n > 4 || err != nil {
		t.Errorf("link: %v allocations (error %v), want at most 4", n, err)
	}
	withHash := e
	want, _ := json.Marshal(withHash)
	if string(out) != string(want) {
		t.Fatalf("link wrote\n%s\nMarshal writes\n%s", out, want)
	}
	noHash := e
	noHash.Hash = ""
	body, _ := json.Marshal(noHash)
	sum := sha256.Sum256(append([]byte(e.PrevHash), body...))
	if e.Hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash %s, want hex(sha256(prev || body)) %s", e.Hash, hex.EncodeToString(sum[:]))
	}
}

// TestLinkRefusesTimeOutOfRange: a year Marshal cannot encode is refused
// with Marshal's error, not written with a half-encoded time.
func TestLinkRefusesTimeOutOfRange(t *testing.T) {
	for _, tm := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		e := sample(1, "Patient/a")
		e.Time = tm
		if out, err := link(&e, sha256.New); err == nil {
			t.Errorf("time %v: linked as %s", tm, out)
		}
		if out, ok := appendEntryJSON([]byte("prefix"), &e); ok || string(out) != "prefix" {
			t.Errorf("time %v: appendEntryJSON = %q, %v; want the prefix back, false", tm, out, ok)
		}
	}
}

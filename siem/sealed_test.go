package siem

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// TestQueueSealed queues an event and acks a cursor in plaintext, then
// reopens the queue with a sealer as serve does once encryption is on: the
// old values are sealed on open, a new event is sealed as written, both
// events and the cursor read back, the live pages hold no event text in
// plaintext, and the encrypted queue refuses to open without its sealer.
func TestQueueSealed(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	plain, err := OpenQueue(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"zq-acked-reason", "zq-old-reason"} {
		if err := plain.Emit(Event{Kind: KindBulkAlert, Subject: "Practitioner/dr-zq-wenlock", Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	if err := plain.ack(Cursor{Ledger: 7, Events: 1}); err != nil {
		t.Fatal(err)
	}
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k.Active = true
	ring, err := seal.NewKeyring([]seal.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.Open(db, ring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenQueue(db); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("OpenQueue without the sealer on an encrypted store = %v", err)
	}
	q, err := OpenQueue(db, WithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(Event{Kind: KindBulkAlert, Subject: "Practitioner/dr-zq-wenlock", Reason: "zq-new-reason"}); err != nil {
		t.Fatal(err)
	}
	if c, err := q.Cursor(); err != nil || c != (Cursor{Ledger: 7, Events: 1}) {
		t.Fatalf("Cursor = %+v, %v", c, err)
	}
	evs, err := q.after(1, 10)
	if err != nil || len(evs) != 2 || evs[0].Reason != "zq-old-reason" || evs[1].Reason != "zq-new-reason" || evs[1].Seq != 3 {
		t.Fatalf("after(1) = %+v, %v", evs, err)
	}
	if err := q.ack(Cursor{Ledger: 9, Events: 2}); err != nil {
		t.Fatal(err)
	}
	if c, err := q.Cursor(); err != nil || c != (Cursor{Ledger: 9, Events: 2}) {
		t.Fatalf("Cursor after ack = %+v, %v", c, err)
	}
	c, err := seal.Count(db, SealedBuckets)
	// The cursor bucket holds the cursor and the queued bytes.
	if err != nil || c.Plain != 0 || c.BucketCount[eventsName] != 1 || c.BucketCount[cursorName] != 2 {
		t.Fatalf("Count = %+v, %v", c, err)
	}
	// bbolt leaves freed pages as they were: scan the live pages, copied
	// as a backup (or ds4p keys compact) would.
	live := filepath.Join(t.TempDir(), "live.db")
	dst, err := bbolt.Open(live, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bbolt.Compact(dst, db, 0); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"zq-old-reason", "zq-new-reason", "wenlock", KindBulkAlert} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the live pages hold %q in plaintext", s)
		}
	}
}

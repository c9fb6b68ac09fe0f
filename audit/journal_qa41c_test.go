package audit

import (
	"os"
	"strings"
	"testing"
)

// TestJournalRefusesAReplacedFileAtItsHead (QA round 41, area C): the
// README says a journal beside a database file that was replaced stops a
// read-write Open. It did only when the journal held entries past the
// file's head: a plaintext ds4p.db rewritten into another chain as long
// as the journal's (or longer) opened silently, its journal records at or
// before the head skipped unread, and serve's first append then wrote
// over the journal from offset 0, erasing what `ds4p audit verify` would
// have reported ("the journal holds another entry at this seq"). Open
// compares them too.
func TestJournalRefusesAReplacedFileAtItsHead(t *testing.T) {
	t.Parallel()
	a := newLedger(t)
	appendRange(t, a, 1, 5)
	if err := a.Close(); err != nil { // a clean stop: the journal keeps its records
		t.Fatal(err)
	}
	b := newLedger(t) // the replacement: as many entries, other ones
	appendSamples(t, b, 6)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	j, err := os.ReadFile(JournalPath(a.db.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(JournalPath(b.db.Path()), j, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(b.db)
	if err == nil {
		_ = l.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "another entry") || !strings.Contains(err.Error(), "move the journal away") {
		t.Fatalf("read-write Open of a replaced file beside its journal = %v; want refused", err)
	}

	// The file its journal was written beside opens, as after any clean stop.
	again, err := Open(a.db)
	if err != nil {
		t.Fatalf("reopening the ledger beside its own journal: %v", err)
	}
	_ = again.Close()
}

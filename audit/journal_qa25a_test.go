package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// plainJournalLeft runs a plaintext ledger with its journal, naming
// Patient/qa25secret, stops it cleanly and returns the database's path:
// the journal beside it holds the plaintext records it took.
func plainJournalLeft(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	l, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if err := l.Append(t.Context(), sample(i, "Patient/qa25secret")); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if j, _ := os.ReadFile(JournalPath(path)); !bytes.Contains(j, []byte("Patient/qa25secret")) {
		t.Fatal("setup: the plaintext journal does not hold the patient")
	}
	return path
}

// encryptAndCheck reopens the plaintext ledger at path with a storage key
// and opts (its first encrypted open, which encrypts the file) and fails
// if the journal beside it still names the patient.
func encryptAndCheck(t *testing.T, path string, opts ...Option) {
	t.Helper()
	db := openFile(t, path)
	t.Cleanup(func() { _ = db.Close() })
	l, err := Open(db, append([]Option{WithSealer(openSealer(t, db, testKey(t, true)))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	if n, err := l.Verify(t.Context()); err != nil || n != 5 {
		t.Fatalf("Verify after encrypting = %d, %v", n, err)
	}
	if j, _ := os.ReadFile(JournalPath(path)); bytes.Contains(j, []byte("Patient/qa25secret")) {
		t.Error("the ledger is encrypted now, but its journal still holds the plaintext patient id")
	}
}

// TestEncryptingZeroesJournalWhenOff: a plaintext ledger's journal left
// from when it was on, and the ledger then encrypted with the journal off
// (ledger.journal_bytes: 0 and a storage key in one change): Open
// recovered from the journal and closed it, without the zeroing an open
// with the journal on does, so the plaintext records (patient ids,
// queries) stayed beside the encrypted file.
func TestEncryptingZeroesJournalWhenOff(t *testing.T) {
	t.Parallel()
	encryptAndCheck(t, plainJournalLeft(t), WithJournalSize(0))
}

// TestEncryptingZeroesJournalPastATornRecord: records are read from
// offset 0 only while they are whole, so plaintext records after a torn
// first record (a crash while writing at 0 after a wrap) were not seen, and
// the journal was not zeroed when the ledger was encrypted.
func TestEncryptingZeroesJournalPastATornRecord(t *testing.T) {
	t.Parallel()
	path := plainJournalLeft(t)
	f, err := os.OpenFile(JournalPath(path), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The first record's CRC no longer matches: it reads as torn.
	if _, err := f.WriteAt([]byte{0xde, 0xad}, journalHeader+20); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	encryptAndCheck(t, path)
}

// TestEncryptedLedgerClearsPlaintextLeftInJournal: an encrypted ledger
// whose journal still holds plaintext records beyond a torn first one (as
// an older ds4p left it when it encrypted the ledger) has them zeroed at
// the next open, when they are recovered (all at or before the head).
func TestEncryptedLedgerClearsPlaintextLeftInJournal(t *testing.T) {
	t.Parallel()
	plain := plainJournalLeft(t)
	left, err := os.ReadFile(JournalPath(plain))
	if err != nil {
		t.Fatal(err)
	}
	copy(left[journalHeader+20:], []byte{0xde, 0xad}) // the first record torn
	path := filepath.Join(t.TempDir(), "ds4p.db")
	db := openFile(t, path)
	opts := []Option{WithSealer(openSealer(t, db, testKey(t, true)))}
	l, err := Open(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 5)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(JournalPath(path), left, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = Open(db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n, err := l.Verify(t.Context()); err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	if j, _ := os.ReadFile(JournalPath(path)); bytes.Contains(j, []byte("Patient/qa25secret")) {
		t.Error("the encrypted ledger's journal still holds the plaintext patient id")
	}
}

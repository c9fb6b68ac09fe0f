package audit

import (
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// TestPruneRemovesUnfinishedExport: a prune round that wrote its export and
// then did not delete (its transaction failed, or ds4p stopped between the
// two) left the export beside the ledger's entries; the next prune, over a
// longer range, wrote a second export from the same seq, and the exports
// overlapped, so `ds4p audit verify --exports` failed on an untampered
// ledger. Now the next round removes the unfinished one first.
func TestPruneRemovesUnfinishedExport(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 20)
	dir := filepath.Join(t.TempDir(), "exports")
	// What the crashed round left: the export of seqs 1..5, the entries
	// not deleted and the checkpoint not moved.
	var p prunable
	if err := l.view(t.Context(), func(tx *bbolt.Tx) (err error) { p, err = l.collectPrunable(tx, at(6)); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := writeExport(dir, ExportName(1, 5), p.raw); err != nil {
		t.Fatal(err)
	}
	// A file whose name is not an export's, which the prune leaves alone.
	if err := os.WriteFile(filepath.Join(dir, "ledger-notes.ndjson"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := l.Prune(t.Context(), at(11), dir)
	if err != nil || res.Checkpoint.Seq != 10 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "ledger-*.ndjson"))
	want := []string{filepath.Join(dir, ExportName(1, 10)), filepath.Join(dir, "ledger-notes.ndjson")}
	if len(files) != 2 || files[0] != want[0] || files[1] != want[1] {
		t.Fatalf("exports after the prune: %v, want %v", files, want)
	}
	// The exports chain from genesis to the checkpoint, as verify reads them.
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if end, n, err := VerifyNDJSON(f, Checkpoint{Hash: GenesisHash}); err != nil || n != 10 || end.Seq != 10 || end.Hash != res.Checkpoint.Hash {
		t.Fatalf("VerifyNDJSON = %+v, %d, %v", end, n, err)
	}
	// A later round leaves the finished export alone.
	if res, err := l.Prune(t.Context(), at(16), dir); err != nil || res.Checkpoint.Seq != 15 {
		t.Fatalf("second Prune = %+v, %v", res, err)
	}
	if _, err := os.Stat(files[0]); err != nil {
		t.Fatalf("the finished export went: %v", err)
	}
}

func TestParseExportName(t *testing.T) {
	t.Parallel()
	if a, b, ok := ParseExportName(ExportName(7, 1234)); !ok || a != 7 || b != 1234 {
		t.Errorf("ParseExportName(ExportName(7, 1234)) = %d, %d, %v", a, b, ok)
	}
	for _, bad := range []string{"ledger-7-1234.ndjson", "ledger-00000000000000000007-00000000000000001234.ndjson.tmp",
		"ledger-notes.ndjson", "ledger-00000000000000000007-00000000000000001234.json", ""} {
		if _, _, ok := ParseExportName(bad); ok {
			t.Errorf("ParseExportName(%q) took it", bad)
		}
	}
}

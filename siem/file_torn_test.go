package siem

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFileSinkEndsATornLine: a file whose last line a kill cut short (a
// write to a file stops between pages on SIGKILL) gets that line ended
// before the next batch, which would otherwise continue it: two records
// run together made one broken line (CI's TestSIEMEveryRecordAfterKill saw
// one). A file ending in a newline is left as it is.
func TestFileSinkEndsATornLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "siem.jsonl")
	if err := os.WriteFile(path, []byte("{\"n\":1}\n{\"n\":2,\"cut"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]Record{{JSON: []byte(`{"n":2}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]Record{{JSON: []byte(`{"n":3}`)}}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	got, _ := os.ReadFile(path)
	if want := "{\"n\":1}\n{\"n\":2,\"cut\n{\"n\":2}\n{\"n\":3}\n"; string(got) != want {
		t.Fatalf("file = %q, want %q", got, want)
	}
	s, err = NewFileSink(path) // a whole last line: nothing added
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]Record{{JSON: []byte(`{"n":4}`)}}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if got, _ := os.ReadFile(path); string(got) != "{\"n\":1}\n{\"n\":2,\"cut\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n" {
		t.Fatalf("file = %q", got)
	}
}

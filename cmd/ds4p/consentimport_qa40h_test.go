package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsentImportNothingMakesNothingQA40H: `ds4p consent import` into a
// data directory without a database made ds4p.db and a storage key even
// when none of its files could be read, or held no Consent (exit 1,
// "accepted 0"): a mistyped --data got a store (and a key beside it) that
// serve never uses or refuses (QA round 40, C's P4). The database and the
// key are made with the first consent to store.
func TestConsentImportNothingMakesNothingQA40H(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	patient := filepath.Join(src, "patient.json")
	bad := filepath.Join(src, "bad.ndjson")
	for name, body := range map[string]string{patient: `{"resourceType":"Patient","id":"p1"}`, bad: "not json\n"} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, paths := range [][]string{
		{filepath.Join(src, "missing.json")},
		{patient},
		{src + "/nothing-here", patient},
	} {
		data := filepath.Join(t.TempDir(), "d1")
		code, out, errOut := ds4p(t, append([]string{"consent", "import", "--data", data}, paths...)...)
		if code != 1 {
			t.Errorf("import %v = %d %q %q, want 1", paths, code, out, errOut)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			entries, _ := os.ReadDir(data)
			t.Errorf("import %v with nothing to store made %s (%d entries: %v)", paths, data, len(entries), entries)
		}
	}
	// A rejected line is something to import: reported as before, nothing
	// made either, as the store is made only for a consent it stores.
	data := filepath.Join(t.TempDir(), "d2")
	if code, out, _ := ds4p(t, "consent", "import", "--data", data, bad); code != 1 || !strings.Contains(out, "accepted 0") {
		t.Errorf("import of a bad line = %d %q", code, out)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("import of a bad line made %s", data)
	}
	// A consent to store makes the database and its key as before.
	good := filepath.Join(src, "c1.json")
	if err := os.WriteFile(good, []byte(strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", "c1"), "\n", "")), 0o600); err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(t.TempDir(), "d3")
	if code, out, errOut := ds4p(t, "consent", "import", "--data", data, filepath.Join(src, "missing.json"), good); code != 1 || !strings.Contains(out, "accepted 1") {
		t.Errorf("import of one consent beside a missing file = %d %q %q", code, out, errOut)
	}
	for _, name := range []string{DBFile, StorageKeyFile} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("after a consent was stored: %v", err)
		}
	}
	if code, out, errOut := ds4p(t, "consent", "list", "--data", data); code != 0 || !strings.Contains(out, "c1") {
		t.Errorf("list = %d %q %q", code, out, errOut)
	}
}

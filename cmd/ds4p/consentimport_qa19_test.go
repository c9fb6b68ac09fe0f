package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → body into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// oneConsent is cliConsent with id on one line.
func oneConsent(id string) string {
	return strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", id), "\n", "")
}

// TestImportAgainKeepsRevocation: importing the same export twice stored
// every consent twice, and importing it after a revocation made the revoked
// consent active again (QA round 19).
func TestImportAgainKeepsRevocation(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	src := writeFiles(t, map[string]string{"export.ndjson": oneConsent("c1") + "\n" + oneConsent("c2") + "\n"})
	if code, out, errOut := ds4p(t, "consent", "import", "--data", data, src); code != 0 || !strings.Contains(out, "accepted 2, rejected 0") {
		t.Fatalf("first import: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	if code != 0 || !strings.Contains(out, "accepted 0, rejected 0, unchanged 2") {
		t.Fatalf("same file again: exit %d, want 0 and nothing stored\n%s%s", code, out, errOut)
	}
	if code, out, errOut := ds4p(t, "consent", "revoke", "--data", data, "c1"); code != 0 {
		t.Fatalf("revoke: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = ds4p(t, "consent", "import", "--data", data, src)
	if code != 1 || !strings.Contains(out, "export.ndjson:1: Consent: is version 1 of the stored consent") ||
		!strings.Contains(out, "unchanged 1") {
		t.Fatalf("the export after a revocation: exit %d, want 1 with line 1 refused\n%s%s", code, out, errOut)
	}
	_, out, _ = ds4p(t, "consent", "show", "--data", data, "--history", "c1")
	if !strings.Contains(out, "c1  2        inactive") || strings.Contains(out, "c1  3") {
		t.Fatalf("c1's history after the import:\n%s", out)
	}
	if _, out, _ := ds4p(t, "consent", "show", "--data", data, "--history", "c2"); strings.Contains(out, "c2  2") {
		t.Fatalf("c2 stored twice:\n%s", out)
	}
}

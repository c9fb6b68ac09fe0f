package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOfflineCommandsUseServesDataDirQA28C: where serve's environment
// names the data directory (DS4P_DATA_DIR), ds4p consent, audit and keys
// without --data work on it, as they read DS4P_STORAGE_* already. consent
// import made a new database in ./data, stored the consent there and said
// it was accepted: a patient's deny that serve never saw.
func TestOfflineCommandsUseServesDataDirQA28C(t *testing.T) {
	served := filepath.Join(t.TempDir(), "served")
	work := t.TempDir()
	t.Chdir(work)
	f := filepath.Join(work, "c.json")
	one := strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", "deny-1"), "\n", "")
	if err := os.WriteFile(f, []byte(one), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DS4P_DATA_DIR", served)
	if code, out, errOut := runCLI("consent", "import", f); code != 0 || !strings.Contains(out+errOut, "accepted 1") {
		t.Fatalf("import: exit %d: %s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(work, DefaultDataDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("import made ./%s: %v", DefaultDataDir, err)
	}
	if code, out, errOut := runCLI("consent", "list", "--data", served); code != 0 || !strings.Contains(out, "deny-1") {
		t.Errorf("the consent is not in DS4P_DATA_DIR's store: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI("consent", "list"); code != 0 || !strings.Contains(out, "deny-1") {
		t.Errorf("consent list without --data: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI("keys", "status"); code != 0 || !strings.Contains(out, "values") {
		t.Errorf("keys status without --data: exit %d\n%s%s", code, out, errOut)
	}
	// A dev token is signed with the key of the store serve uses, so that
	// serve --dev-auth on DS4P_DATA_DIR trusts it.
	if code, _, errOut := runCLI("token", "--sub", "u"); code != 0 {
		t.Errorf("token without --data: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(work, DefaultDataDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token made ./%s instead of using DS4P_DATA_DIR: %v", DefaultDataDir, err)
	}
	// --data still wins.
	other := filepath.Join(t.TempDir(), "other")
	if code, _, errOut := runCLI("consent", "import", "--data", other, f); code != 0 {
		t.Fatalf("import --data: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(other, DBFile)); err != nil {
		t.Errorf("--data was not used: %v", err)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsentListFiltersAsTheAPIQA28C: ds4p consent list refuses an empty
// filter (exit 1, as other filters it cannot search by), as GET
// /admin/Consent?patient= does, instead of listing every patient's
// consents for `--patient "$P"` with P unset.
func TestConsentListFiltersAsTheAPIQA28C(t *testing.T) {
	data, src := t.TempDir(), t.TempDir()
	var nd strings.Builder
	for _, p := range []string{"p1", "p2"} {
		nd.WriteString(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", "c-"+p), "Patient/p1", "Patient/"+p), "\n", "") + "\n")
	}
	f := filepath.Join(src, "c.ndjson")
	if err := os.WriteFile(f, []byte(nd.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := ds4p(t, "consent", "import", "--data", data, f); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	if code, out, _ := ds4p(t, "consent", "list", "--data", data, "--patient", "p1"); code != 0 || !strings.Contains(out, "Patient/p1") || strings.Contains(out, "Patient/p2") {
		t.Fatalf("--patient p1: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--patient", ""}, "patient: is empty"},
		{[]string{"--status", ""}, "status: is empty"},
		{[]string{"--period", ""}, "period:"},
		{[]string{"--status", "Active"}, `"Active" is not a consent status`},
		{[]string{"--patient", "Observation/x"}, "is not of the form Patient/<id>"},
	} {
		code, out, errOut := ds4p(t, append([]string{"consent", "list", "--data", data}, c.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 (a usage error), nothing listed, %q", c.args, code, out, errOut, c.want)
		}
	}
}

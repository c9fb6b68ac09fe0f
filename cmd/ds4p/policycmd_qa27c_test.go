package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyEmptyDirRefused: --dir given empty (a script's --dir
// "$POLICY_DIR" with the variable unset) is a usage error, not the
// embedded policy checked, tested, evaluated or built as if it were the
// directory meant (QA round 27).
func TestPolicyEmptyDirRefused(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	for _, args := range [][]string{
		{"policy", "check", "--dir="},
		{"policy", "test", "--dir", ""},
		{"policy", "eval", "--dir=", "--input", filepath.Join(tmp, "none.json")},
		{"policy", "build", "--dir=", "--out", filepath.Join(tmp, "bundle.tar.gz")},
	} {
		code, out, errOut := ds4p(t, args...)
		if code != 2 || !strings.Contains(errOut, "--dir is empty") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 naming the empty --dir", args, code, out, errOut)
		}
	}
}

// TestPolicyEvalNamesRefusedData: eval of a tree whose policy data a
// reload refuses still prints the decision but fails, naming the problem,
// instead of passing off a decision the proxy would never make (QA round
// 27: a misspelt confidentiality label read R items as ordinary).
func TestPolicyEvalNamesRefusedData(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "policy")
	if code, out, errOut := ds4p(t, "policy", "export", "--dir", dir); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	table := filepath.Join(dir, "ds4p/config/state_law/data.json")
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	const r = `"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"`
	i := strings.Index(string(b), `"restricted_confidentiality"`)
	if i < 0 {
		t.Fatal("no restricted_confidentiality")
	}
	j := strings.Index(string(b)[i:], r)
	if j < 0 {
		t.Fatal("no R in restricted_confidentiality")
	}
	edited := string(b)[:i+j] + `"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|r"` + string(b)[i+j+len(r):]
	if err := os.WriteFile(table, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := ds4p(t, "policy", "eval", "--dir", dir, "--input", filepath.Join(dir, "schema/examples/part2-consented.input.json"))
	if code != 1 || !strings.Contains(out, `"effect"`) || !strings.Contains(errOut, "v3-Confidentiality|r") {
		t.Fatalf("eval under refused data: exit %d, stdout %.200q, stderr %q", code, out, errOut)
	}
}

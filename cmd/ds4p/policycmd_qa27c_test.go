package main

import (
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

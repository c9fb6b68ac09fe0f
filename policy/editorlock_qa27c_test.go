package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestEditorLockFileIgnored: an Emacs lock file (".#main.rego", a symbolic
// link to a name that does not exist, there while the module has unsaved
// changes) is no part of the policy tree: the tree loads with the
// revision it has without it, and its tests run. Reading it failed the
// whole tree, so every reload was rejected while an analyst edited
// (QA round 27).
func TestEditorLockFileIgnored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.CopyFS(dir, rego.FS()); err != nil {
		t.Fatal(err)
	}
	want, err := policy.Revision(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ds4p/.#main.rego", "ds4p/.#main_test.rego"} {
		if err := os.Symlink("analyst@host.4242:1733450000", filepath.Join(dir, name)); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	fsys := os.DirFS(dir)
	if got, err := policy.Revision(fsys); err != nil || got != want {
		t.Errorf("Revision = %s, %v; want %s", got, err, want)
	}
	if _, err := policy.TreeKey(fsys); err != nil {
		t.Errorf("TreeKey: %v", err)
	}
	e, err := policy.New(ctx, fsys, policy.WithVerify(true))
	if err != nil {
		t.Fatalf("the tree does not load beside an editor's lock file: %v", err)
	}
	if e.Revision() != want {
		t.Errorf("revision %s, want %s", e.Revision(), want)
	}
	if res, err := policy.RunTests(ctx, fsys); err != nil || len(res) == 0 {
		t.Errorf("RunTests: %d results, %v", len(res), err)
	}
}

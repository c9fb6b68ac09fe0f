package policy_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/policy"
)

// changingFS is a policy directory an analyst saves while it loads: its
// module reads as permit the first time and as deny every time after.
type changingFS struct {
	reads atomic.Int32
}

const (
	permitModule = "package ds4p\n\ndefault decision := {\"effect\": \"permit\", \"reasons\": []}\n"
	denyModule   = "package ds4p\n\ndefault decision := {\"effect\": \"deny\", \"reasons\": []}\n"
)

func (c *changingFS) Open(name string) (fs.File, error) {
	m := fstest.MapFS{"ds4p/main.rego": {Data: []byte(permitModule)}}
	if name == "ds4p/main.rego" && c.reads.Add(1) > 1 {
		m["ds4p/main.rego"] = &fstest.MapFile{Data: []byte(denyModule)}
	}
	return m.Open(name)
}

// TestLoadReadsTheTreeOnce: Load read a directory once for the revision,
// again to compile, again for the tests and the evaluator, so a file saved
// in between served the new modules under the old content's revision,
// which decisions and the ledger then named (QA round 20). The tree is now
// read once: the revision served is that of the modules that decide.
func TestLoadReadsTheTreeOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tree := &changingFS{}
	eng, err := policy.New(ctx, tree)
	if err != nil {
		t.Fatal(err)
	}
	in := sudInput("Organization/org-a", "TREAT")
	in.ConsentKey = policy.ConsentKey(nil)
	d, err := eng.Decide(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	permitRev, _ := policy.Revision(fstest.MapFS{"ds4p/main.rego": {Data: []byte(permitModule)}})
	denyRev, _ := policy.Revision(fstest.MapFS{"ds4p/main.rego": {Data: []byte(denyModule)}})
	got := eng.Revision()
	switch {
	case got == permitRev && !d.Permitted(), got == denyRev && d.Permitted():
		t.Fatalf("revision %s served decisions of the other content (effect %s)", got, d.Effect)
	case got != permitRev && got != denyRev:
		t.Fatalf("revision %s is neither tree's (%s, %s)", got, permitRev, denyRev)
	}
	if n := tree.reads.Load(); n != 1 {
		t.Errorf("the module was read %d times, want once", n)
	}
}

// TestByteOrderMarkNamed: a policy file saved with a UTF-8 byte-order mark
// (a Windows editor's habit) is refused by name, not with the loader's
// "invalid character 'ï'" (QA round 20).
func TestByteOrderMarkNamed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "ds4p"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ds4p", "data.json"), []byte("\xef\xbb\xbf{\"x\": 1}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ds4p", "main.rego"), []byte(permitModule), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "ds4p/data.json starts with a UTF-8 byte-order mark"
	_, err := policy.New(context.Background(), os.DirFS(dir))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New: got %v", err)
	}
	if err := policy.Verify(context.Background(), os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Verify (ds4p policy build): got %v", err)
	}
	problems, err := policy.Check(context.Background(), os.DirFS(dir))
	if err != nil || len(problems) == 0 || !strings.Contains(problems[0].Message, want) {
		t.Errorf("Check (ds4p policy check): got %v, %v", problems, err)
	}
	if _, err := policy.BuildBundle(os.DirFS(dir), nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("BuildBundle: got %v", err)
	}
}

package policy

import (
	"context"
	"io"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/rego"
)

// changingFS is a policy tree whose file target reads as the n-th of
// versions at its n-th read (the last one after that): an editor writing
// the file while the watcher reads the tree.
type changingFS struct {
	fstest.MapFS
	target   string
	versions []string
	mu       sync.Mutex
	reads    int
}

func (c *changingFS) Open(name string) (fs.File, error) {
	if name != c.target {
		return c.MapFS.Open(name)
	}
	c.mu.Lock()
	v := c.versions[min(c.reads, len(c.versions)-1)]
	c.reads++
	c.mu.Unlock()
	return fstest.MapFS{name: {Data: []byte(v)}}.Open(name)
}

// ReadFile reads through Open (MapFS's own would bypass it).
func (c *changingFS) ReadFile(name string) ([]byte, error) {
	f, err := c.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// TestWatchDirLoadsOnlyTheStableTree: the watcher loads a directory only
// as it saw it unchanged across two polls. It gave the directory itself to
// Load, which read it again: a file caught mid-write between the stable
// poll and that read (here a module cut after its first rule, which still
// compiles and passes the tests) was loaded and served, a tree no poll had
// seen (QA round 27).
func TestWatchDirLoadsOnlyTheStableTree(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const whole = "package ds4p\n\nzz := 1\n\nzz_more := 2\n"
	const cut = "package ds4p\n\nzz := 1\n"
	base := copyTree(t, rego.FS())
	base["ds4p/zz.rego"] = &fstest.MapFile{Data: []byte(whole)}
	e, err := New(ctx, base, WithVerify(true))
	if err != nil {
		t.Fatal(err)
	}
	good := e.Revision()
	// Reads 1 and 2 are the two polls' keys; read 3, the next read of the
	// tree, catches the file cut short; later reads see it whole again.
	w := &dirWatch{e: e, fsys: &changingFS{MapFS: base, target: "ds4p/zz.rego", versions: []string{whole, whole, cut, whole}}}
	for range 4 {
		w.poll(ctx)
		if e.Revision() != good {
			t.Fatalf("the watcher loaded revision %s, a tree cut mid-write that no poll saw twice (want %s)", e.Revision(), good)
		}
	}
	if st := e.Status(); st.Rejected != nil {
		t.Errorf("a rejection is reported: %+v", st.Rejected)
	}
}

package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"
)

// DefaultReloadInterval is how often WatchDir looks at a policy directory.
const DefaultReloadInterval = time.Second

// WatchDir reloads the policy directory dir into the engine whenever its
// content changes, until ctx ends. It polls a content hash (Revision)
// rather than relying on file events, so that atomic directory swaps
// (Kubernetes ConfigMaps, rsync, git checkout) and editors that write in
// several steps all work: a new revision is loaded once it has stayed the
// same for one interval. A revision that fails to load is tried once; the
// revision in force keeps serving and Status reports the rejection until a
// different revision loads (or the serving one is restored).
func (e *Engine) WatchDir(ctx context.Context, dir string, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	// Nothing attempted yet: the first stable poll gives the directory to
	// Load, which does nothing when it holds the revision in force.
	w := &dirWatch{e: e, fsys: os.DirFS(dir)}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(ctx)
		}
	}
}

type dirWatch struct {
	e         *Engine
	fsys      fs.FS
	seen      string // treeKey seen at the previous poll
	attempted string // treeKey of the tree last given to Load
}

// poll loads the directory when its content (treeKey) differs from the
// last one attempted and has not changed since the previous poll.
func (w *dirWatch) poll(ctx context.Context) {
	rev, err := treeKey(w.fsys)
	if err != nil {
		if w.attempted != "unreadable" {
			w.attempted = "unreadable"
			_ = w.e.reject("", err)
		}
		return
	}
	stable := rev == w.seen
	w.seen = rev
	if !stable || rev == w.attempted {
		return
	}
	// Load what was seen unchanged, not whatever the directory holds by
	// the time Load reads it: a file caught mid-write after the stable
	// poll (a module cut after a rule still compiles) was loaded and
	// served, a tree no poll had seen (QA round 27). The tree is read once
	// here and loaded only when it is still the one seen; otherwise the
	// next polls wait for it to settle.
	snap, err := snapshot(w.fsys)
	if err != nil { // a byte-order mark, a tree too large: as Load reports it
		w.attempted = rev
		_ = w.e.reject("", err)
		return
	}
	if key, err := treeKey(snap); err != nil || key != rev {
		w.seen = "" // changed since: stable again before it is attempted
		return
	}
	w.attempted = rev
	_ = w.e.Load(ctx, snap)
}

// TreeKey identifies a policy tree by what its loads read and check: its
// Revision, its Rego tests and its config schema (treeKey). A tool that
// keeps what it found about a tree (the console's Rego test results) keys
// it so: the revision alone stays the same when only a test changes.
func TreeKey(fsys fs.FS) (string, error) { return treeKey(fsys) }

// treeKey identifies a policy tree as the watchers attempt it: its
// Revision, its Rego tests and its config schema. The revision leaves them
// out, as they change no decision; but a revision rejected because a test
// failed, or its data did not match the tree's schema, must be attempted
// again when only the test or the schema is fixed, and a watcher that
// keyed its attempts on the revision (or, until QA round 27, on the
// revision and the tests) never did.
func treeKey(fsys fs.FS) (string, error) {
	rev, err := Revision(fsys)
	if err != nil {
		return "", err
	}
	var tests []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !editorLock(d.Name()) && (strings.HasSuffix(d.Name(), "_test.rego") || p == ConfigSchemaPath) {
			tests = append(tests, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("policy: listing policy files: %w", err)
	}
	sort.Strings(tests)
	h := sha256.New()
	for _, p := range tests {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", fmt.Errorf("policy: reading %s: %w", p, err)
		}
		fmt.Fprintf(h, "t\x00%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return rev + "+" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

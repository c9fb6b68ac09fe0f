package policy

import (
	"context"
	"io/fs"
	"os"
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
	w := &dirWatch{e: e, fsys: os.DirFS(dir), attempted: e.Revision()}
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
	seen      string // revision seen at the previous poll
	attempted string // revision last given to Load
}

// poll loads the directory when its revision differs from the last one
// attempted and has not changed since the previous poll.
func (w *dirWatch) poll(ctx context.Context) {
	rev, err := Revision(w.fsys)
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
	w.attempted = rev
	_ = w.e.Load(ctx, w.fsys)
}

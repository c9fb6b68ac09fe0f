package audit

import (
	"sync"

	"go.etcd.io/bbolt"
)

// groupCommit batches concurrent appends into shared transactions without a
// timer: the first caller commits at once (no added latency when idle);
// callers that arrive while a commit is under way queue and go together in
// the next one, which shares a single fsync. bbolt's db.Batch would instead
// hold every call for MaxBatchDelay.
type groupCommit struct {
	mu    sync.Mutex
	queue []*pendingAppend
	busy  bool
}

type pendingAppend struct {
	batch []Entry
	done  chan error
}

// commit stores batch durably, grouped with whatever else is waiting.
func (l *Ledger) commit(batch []Entry) error {
	p := &pendingAppend{batch: batch, done: make(chan error, 1)}
	l.gc.mu.Lock()
	l.gc.queue = append(l.gc.queue, p)
	if l.gc.busy {
		l.gc.mu.Unlock()
		return <-p.done
	}
	l.gc.busy = true
	l.gc.mu.Unlock()
	l.lead()
	return <-p.done
}

// lead commits one group, then hands leadership to a new goroutine if more
// callers queued meanwhile, so that no caller waits for more than the
// commit in progress and its own.
func (l *Ledger) lead() {
	l.gc.mu.Lock()
	group := l.gc.queue
	l.gc.queue = nil
	l.gc.mu.Unlock()
	l.commitGroup(group)
	l.gc.mu.Lock()
	if len(l.gc.queue) == 0 {
		l.gc.busy = false
		l.gc.mu.Unlock()
		return
	}
	l.gc.mu.Unlock()
	go l.lead()
}

// commitGroup writes every batch of the group in one transaction; if that
// fails, each batch is retried alone so one bad call cannot fail the rest.
func (l *Ledger) commitGroup(group []*pendingAppend) {
	now := l.now()
	err := l.db.Update(func(tx *bbolt.Tx) error {
		for _, p := range group {
			if err := l.appendTx(tx, p.batch, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		for _, p := range group {
			p.done <- l.db.Update(func(tx *bbolt.Tx) error { return l.appendTx(tx, p.batch, now) })
		}
		return
	}
	for _, p := range group {
		p.done <- err
	}
}

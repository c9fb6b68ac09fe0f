package audit

import (
	"slices"
	"sync"
	"time"

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
	err   error
	done  chan struct{} // closed once err is set (finish)
}

// finish reports err to the appender waiting for p, once: closing done
// publishes err. (A channel of errors with room for one allocated twice
// more per append.)
func (p *pendingAppend) finish(err error) {
	p.err = err
	close(p.done)
}

// commit stores batch durably, grouped with whatever else is waiting.
func (l *Ledger) commit(batch []Entry) error {
	p := &pendingAppend{batch: batch, done: make(chan struct{})}
	l.gc.mu.Lock()
	l.gc.queue = append(l.gc.queue, p)
	if l.gc.busy {
		l.gc.mu.Unlock()
		<-p.done
		return p.err
	}
	l.gc.busy = true
	l.gc.mu.Unlock()
	l.lead()
	<-p.done
	return p.err
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

// commitGroup makes the group durable: in the journal (journal.go), or
// when it is off in bbolt directly.
func (l *Ledger) commitGroup(group []*pendingAppend) {
	if l.j != nil {
		l.journalGroup(group)
		return
	}
	l.commitToFile(l.now(), group)
}

// commitToFile writes every batch of the group in one transaction; if that
// fails, each batch is retried alone so one bad call cannot fail the rest.
func (l *Ledger) commitToFile(now time.Time, group []*pendingAppend) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	err := l.appendBatches(now, group...)
	if err != nil && len(group) > 1 {
		for _, p := range group {
			p.finish(l.appendBatches(now, p))
		}
		return
	}
	for _, p := range group {
		p.finish(err)
	}
}

// appendBatches stores the batches in one transaction, which also writes
// the index keys of waiting entries once indexEvery of them wait
// (deferred.go). It holds l.w.mu, and updates l.w.waiting only once the
// transaction committed.
func (l *Ledger) appendBatches(now time.Time, group ...*pendingAppend) error {
	var fresh []waitingKeys
	var linked []Entry
	indexedAll := false
	err := l.db.Update(func(tx *bbolt.Tx) error {
		fresh, linked, indexedAll = fresh[:0], linked[:0], false
		b, err := l.buckets(tx)
		if err != nil {
			return err
		}
		// Entries are keyed in ascending order: pages filled to the brim
		// split off an empty right page, so a write copies half as many
		// keys on average as with bbolt's default half-full split.
		b.entries.FillPercent = 1 // and byTime's (buckets.ix)
		_, indexed, err := b.headAndMark()
		if err != nil {
			return err
		}
		for _, p := range group {
			w, err := l.appendTx(b, p.batch, now, &linked)
			if err != nil {
				return err
			}
			fresh = append(fresh, w...)
		}
		head, _, err := b.readHead()
		if err != nil {
			return err
		}
		known := append(slices.Clip(l.w.waiting), fresh...)
		indexedAll, err = settleIndex(b, indexed, head, known, l.indexEvery)
		return err
	})
	if err == nil {
		l.recent.committed(linked)
	}
	switch {
	case err != nil:
	case indexedAll:
		l.w.waiting = nil
	default:
		l.w.waiting = append(l.w.waiting, fresh...)
	}
	return err
}

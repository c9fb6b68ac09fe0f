package siem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// Sink receives batches of records in order; it returns only once they
// are delivered as far as it can tell (a file: written and fsynced).
type Sink interface {
	Write(recs []Record) error
	Close() error
}

// LedgerTail reads the ledger in seq order; *audit.Ledger is one.
type LedgerTail interface {
	EntriesAfter(ctx context.Context, seq uint64, limit int) ([]audit.Entry, error)
}

// Defaults of Config.
const (
	DefaultBatch    = 500
	DefaultInterval = time.Second
)

// Config configures an Exporter.
type Config struct {
	// Ledger adds the ledger stream; nil exports security events only.
	Ledger LedgerTail
	Sinks  []Sink
	// PatientIDs is plain (default), hash or omit; HashKey keys "hash".
	PatientIDs string
	HashKey    []byte
	// Batch bounds the records of one stream per round (default 500);
	// Interval is how often the ledger is polled when nothing notifies
	// (default 1s).
	Batch    int
	Interval time.Duration
	Logger   *slog.Logger
}

// Exporter delivers the ledger and the queued security events to the
// sinks, at least once, resuming from the cursor stored in the queue.
type Exporter struct {
	q    *Queue
	cfg  Config
	mask masker
	log  *slog.Logger
}

// NewExporter checks cfg.
func NewExporter(q *Queue, cfg Config) (*Exporter, error) {
	if len(cfg.Sinks) == 0 {
		return nil, errors.New("siem: no sink configured")
	}
	switch cfg.PatientIDs {
	case "", PatientIDsPlain, PatientIDsOmit:
	case PatientIDsHash:
		if len(cfg.HashKey) < 32 {
			return nil, errors.New("siem: patient_ids hash needs a key of at least 32 bytes")
		}
	default:
		return nil, fmt.Errorf("siem: patient_ids %q is not plain, hash or omit", cfg.PatientIDs)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	x := &Exporter{q: q, cfg: cfg, mask: masker{mode: cfg.PatientIDs, key: cfg.HashKey}, log: cfg.Logger}
	if x.log == nil {
		x.log = slog.New(slog.DiscardHandler)
	}
	return x, nil
}

// Run exports until ctx ends, then closes the sinks. Failures are logged
// and retried with backoff; nothing is acknowledged until every sink took
// it.
func (x *Exporter) Run(ctx context.Context) {
	defer x.closeSinks()
	backoff := time.Duration(0)
	for {
		more, err := x.Round(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			backoff = min(max(2*backoff, 200*time.Millisecond), 30*time.Second)
			x.log.Error("siem export failed; retrying", "error", err.Error(), "retry_in", backoff.String())
		case more:
			backoff = 0
			continue
		default:
			backoff = 0
		}
		wait := x.cfg.Interval
		if backoff > 0 {
			wait = backoff
		}
		select {
		case <-ctx.Done():
			return
		case <-x.q.notify:
			if backoff > 0 {
				time.Sleep(min(backoff, time.Second))
			}
		case <-time.After(wait):
		}
	}
}

func (x *Exporter) closeSinks() {
	for _, s := range x.cfg.Sinks {
		_ = s.Close()
	}
}

// Round delivers one batch of each stream after the cursor and stores the
// new cursor. more reports that a stream filled its batch.
func (x *Exporter) Round(ctx context.Context) (more bool, err error) {
	cur, err := x.q.Cursor()
	if err != nil {
		return false, err
	}
	var entries []audit.Entry
	if x.cfg.Ledger != nil {
		if entries, err = x.cfg.Ledger.EntriesAfter(ctx, cur.Ledger, x.cfg.Batch); err != nil {
			return false, err
		}
	}
	events, err := x.q.after(cur.Events, x.cfg.Batch)
	if err != nil {
		return false, err
	}
	if len(entries) == 0 && len(events) == 0 {
		return false, nil
	}
	recs, next, err := x.records(cur, entries, events)
	if err != nil {
		return false, err
	}
	for _, s := range x.cfg.Sinks {
		if err := s.Write(recs); err != nil {
			return false, err
		}
	}
	if err := x.q.ack(next); err != nil {
		return false, fmt.Errorf("siem: storing the cursor: %w", err)
	}
	return len(entries) == x.cfg.Batch || len(events) == x.cfg.Batch, nil
}

// records renders entries then events and returns the cursor after them.
func (x *Exporter) records(cur Cursor, entries []audit.Entry, events []Event) ([]Record, Cursor, error) {
	recs := make([]Record, 0, len(entries)+len(events))
	for _, e := range entries {
		r, err := x.mask.ledgerRecord(e)
		if err != nil {
			return nil, cur, err
		}
		recs = append(recs, r)
		cur.Ledger = e.Seq
	}
	for _, ev := range events {
		r, err := x.mask.eventRecord(ev)
		if err != nil {
			return nil, cur, err
		}
		recs = append(recs, r)
		cur.Events = ev.Seq
	}
	return recs, cur, nil
}

package siem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Sink receives batches of records in order; it returns only once they
// are delivered as far as it can tell (a file: written and fsynced). A
// record it can never accept (not a failure of the moment: retrying would
// fail the same way forever) it reports with a *RejectedError.
type Sink interface {
	Write(recs []Record) error
	Close() error
}

// RejectedError is a sink's refusal of recs[Index] of a Write, for good;
// the records before it were delivered. The exporter counts it
// (ds4p.siem.records.skipped), logs its stream, seq, kind and length
// (never its content) and goes on with the records after it, so that one
// record cannot stop the export.
type RejectedError struct {
	Index int
	Err   error
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("siem: record %d of the batch refused for good: %v", e.Index, e.Err)
}

func (e *RejectedError) Unwrap() error { return e.Err }

var skippedRecords, _ = meter.Int64Counter("ds4p.siem.records.skipped",
	metric.WithDescription("SIEM records a sink could never accept, or that could not be encoded, skipped (logged without content)"))

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
	// sent is, per sink, how far it took the records (this process only):
	// when a later sink fails a batch, the retry gives the sinks before
	// it only what they have not had, not the batch again.
	sent []Cursor
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
	x := &Exporter{q: q, cfg: cfg, mask: masker{mode: cfg.PatientIDs, key: cfg.HashKey}, log: cfg.Logger,
		sent: make([]Cursor, len(cfg.Sinks))}
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
// new cursor once every sink took it. more reports that a stream filled
// its batch. A sink is given only the records it has not taken yet, so a
// batch that a later sink failed is not repeated to the sinks before it.
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
	recs, next := x.records(ctx, cur, entries, events)
	for i, s := range x.cfg.Sinks {
		if err := x.write(ctx, s, unsent(recs, x.sent[i])); err != nil {
			return false, err
		}
		x.sent[i] = next
	}
	if err := x.q.ack(next); err != nil {
		return false, fmt.Errorf("siem: storing the cursor: %w", err)
	}
	return len(entries) == x.cfg.Batch || len(events) == x.cfg.Batch, nil
}

// write gives recs to s, skipping (counted and logged, without content)
// each record s rejects for good.
func (x *Exporter) write(ctx context.Context, s Sink, recs []Record) error {
	for len(recs) > 0 {
		err := s.Write(recs)
		var rej *RejectedError
		if !errors.As(err, &rej) || rej.Index < 0 || rej.Index >= len(recs) {
			return err
		}
		r := recs[rej.Index]
		x.skipped(ctx, r.Stream, r.Seq, r.Kind, len(r.JSON), sinkName(s), rej.Err)
		recs = recs[rej.Index+1:]
	}
	return nil
}

func (x *Exporter) skipped(ctx context.Context, stream string, seq uint64, kind string, size int, sink string, err error) {
	skippedRecords.Add(ctx, 1, metric.WithAttributes(attribute.String("stream", stream), attribute.String("sink", sink)))
	x.log.Error("siem record skipped: it can never be delivered to this sink; the ledger and the other sinks keep it",
		"sink", sink, "stream", stream, "seq", seq, "kind", kind, "bytes", size, "error", err.Error())
}

// sinkName names a sink in logs and metrics.
func sinkName(s Sink) string {
	switch s.(type) {
	case *FileSink:
		return "file"
	case *SyslogSink:
		return "syslog"
	case *OTelSink:
		return "otel"
	}
	return fmt.Sprintf("%T", s)
}

// unsent is recs less those the cursor c passed: what a sink that took
// the records up to c has not had.
func unsent(recs []Record, c Cursor) []Record {
	sent := func(r Record) bool {
		return r.Stream == StreamLedger && r.Seq <= c.Ledger || r.Stream == StreamSecurity && r.Seq <= c.Events
	}
	if !slices.ContainsFunc(recs, sent) {
		return recs
	}
	out := make([]Record, 0, len(recs))
	for _, r := range recs {
		if !sent(r) {
			out = append(out, r)
		}
	}
	return out
}

// records renders entries then events and returns the cursor after them.
// One that cannot be encoded (never seen: the ledger encoded it once) is
// skipped, counted and logged, rather than failing every round after.
func (x *Exporter) records(ctx context.Context, cur Cursor, entries []audit.Entry, events []Event) ([]Record, Cursor) {
	recs := make([]Record, 0, len(entries)+len(events))
	for _, e := range entries {
		if r, err := x.mask.ledgerRecord(e); err != nil {
			x.skipped(ctx, StreamLedger, e.Seq, "", 0, "all", err)
		} else {
			recs = append(recs, r)
		}
		cur.Ledger = e.Seq
	}
	for _, ev := range events {
		if r, err := x.mask.eventRecord(ev); err != nil {
			x.skipped(ctx, StreamSecurity, ev.Seq, ev.Kind, 0, "all", err)
		} else {
			recs = append(recs, r)
		}
		cur.Events = ev.Seq
	}
	return recs, cur
}

package siem

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

var (
	rootBucket   = []byte("siem")
	schemaBucket = []byte("v1")
	eventsBucket = []byte("events")
	cursorBucket = []byte("cursor")
	cursorKey    = []byte("cursor")
)

// Cursor is how far the export got: the last ledger seq and the last event
// seq every sink accepted.
type Cursor struct {
	Ledger uint64 `json:"ledger"`
	Events uint64 `json:"events"`
}

// DefaultMaxQueued bounds the events waiting for the SIEM (a few hundred
// bytes each): a sink that is down for long, or a flood of refused
// tokens, cannot fill the disk.
const DefaultMaxQueued = 1_000_000

// ErrQueueFull is returned by Emit when MaxQueued events wait; the event
// is dropped and counted by the ds4p.siem.events.dropped metric.
var ErrQueueFull = errors.New("siem: the event queue is full")

var meter = otel.Meter("github.com/ds4p/ds4p/siem")

var droppedEvents, _ = meter.Int64Counter("ds4p.siem.events.dropped",
	metric.WithDescription("security events dropped because the SIEM queue was full"))

// Queue is the durable queue of security events in the bbolt file, and
// the export cursor beside it. It is safe for concurrent use.
type Queue struct {
	db     *bbolt.DB
	now    func() time.Time
	notify chan struct{}
	sealer *seal.Sealer // nil: plaintext (WithSealer)
	// MaxQueued bounds the events not yet delivered (DefaultMaxQueued
	// when 0). Set it before the first Emit.
	MaxQueued int
}

// OpenQueue creates the package's buckets in db when needed. On a
// read-only db (inspection, tests) it creates nothing and Emit fails.
// With WithSealer it seals what was queued in plaintext; without, it
// refuses an encrypted store.
func OpenQueue(db *bbolt.DB, opts ...QueueOption) (*Queue, error) {
	q := &Queue{db: db, now: time.Now, notify: make(chan struct{}, 1)}
	for _, o := range opts {
		o(q)
	}
	if db.IsReadOnly() {
		return q, db.View(func(tx *bbolt.Tx) error {
			if _, err := schemaOf(tx); err != nil {
				return err
			}
			return q.checkSealing(tx)
		})
	}
	if db.NoSync {
		return nil, errors.New("siem: the database has NoSync set, so queued events would not be durable")
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(rootBucket)
		if err != nil {
			return err
		}
		schema, err := root.CreateBucketIfNotExists(schemaBucket)
		if err != nil {
			return err
		}
		if _, err := schema.CreateBucketIfNotExists(eventsBucket); err != nil {
			return err
		}
		if _, err = schema.CreateBucketIfNotExists(cursorBucket); err != nil {
			return err
		}
		return q.checkSealing(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("siem: opening the queue: %w", err)
	}
	return q, nil
}

func schemaOf(tx *bbolt.Tx) (*bbolt.Bucket, error) {
	root := tx.Bucket(rootBucket)
	if root == nil || root.Bucket(schemaBucket) == nil {
		return nil, errors.New("siem: buckets missing: was the queue opened with OpenQueue?")
	}
	return root.Bucket(schemaBucket), nil
}

// Emit appends ev to the queue, durably (group-committed with concurrent
// emits), assigning its Seq and, when zero, its Time.
func (q *Queue) Emit(ev Event) error {
	if ev.Time.IsZero() {
		ev.Time = q.now()
	}
	ev.Time = ev.Time.UTC()
	err := q.db.Batch(func(tx *bbolt.Tx) error {
		s, err := schemaOf(tx)
		if err != nil {
			return err
		}
		b := s.Bucket(eventsBucket)
		cur, err := q.readCursor(s)
		if err != nil {
			return err
		}
		if b.Sequence()-cur.Events >= uint64(cmp.Or(q.MaxQueued, DefaultMaxQueued)) {
			return ErrQueueFull // checked before NextSequence: a drop leaves no gap in the seqs
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e := ev
		e.Seq = seq
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		k := seqKey(seq)
		return b.Put(k, q.store(eventsName, k, v))
	})
	if errors.Is(err, ErrQueueFull) {
		droppedEvents.Add(context.Background(), 1)
		return err
	}
	if err != nil {
		return fmt.Errorf("siem: queueing a %s event: %w", ev.Kind, err)
	}
	q.Notify()
	return nil
}

// Notify wakes the exporter: there is something new to send.
func (q *Queue) Notify() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// after returns up to limit queued events with Seq > seq.
func (q *Queue) after(seq uint64, limit int) ([]Event, error) {
	var out []Event
	err := q.db.View(func(tx *bbolt.Tx) error {
		s, err := schemaOf(tx)
		if err != nil {
			return err
		}
		c := s.Bucket(eventsBucket).Cursor()
		for k, v := c.Seek(seqKey(seq + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			plain, err := q.load(eventsName, k, v)
			if err != nil {
				return err
			}
			var e Event
			if err := json.Unmarshal(plain, &e); err != nil {
				return fmt.Errorf("event %x: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Cursor returns the stored export cursor (zero before the first export).
func (q *Queue) Cursor() (Cursor, error) {
	var c Cursor
	err := q.db.View(func(tx *bbolt.Tx) error {
		s, err := schemaOf(tx)
		if err != nil {
			return err
		}
		c, err = q.readCursor(s)
		return err
	})
	return c, err
}

// readCursor returns the stored cursor, zero when none is.
func (q *Queue) readCursor(schema *bbolt.Bucket) (Cursor, error) {
	var c Cursor
	v := schema.Bucket(cursorBucket).Get(cursorKey)
	if v == nil {
		return c, nil
	}
	v, err := q.load(cursorName, cursorKey, v)
	if err != nil {
		return c, fmt.Errorf("siem: reading the cursor: %w", err)
	}
	if len(v) == 16 {
		c.Ledger, c.Events = binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:])
	}
	return c, nil
}

// ack stores c and deletes the queued events it passed, in one
// transaction.
func (q *Queue) ack(c Cursor) error {
	return q.db.Update(func(tx *bbolt.Tx) error {
		s, err := schemaOf(tx)
		if err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, c.Ledger), c.Events)
		if err := s.Bucket(cursorBucket).Put(cursorKey, q.store(cursorName, cursorKey, v)); err != nil {
			return err
		}
		b := s.Bucket(eventsBucket)
		var done [][]byte
		cur := b.Cursor()
		for k, _ := cur.First(); k != nil && binary.BigEndian.Uint64(k) <= c.Events; k, _ = cur.Next() {
			done = append(done, append([]byte(nil), k...))
		}
		for _, k := range done { // never delete while iterating
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// Pending counts the queued events not yet delivered.
func (q *Queue) Pending() (int, error) {
	n := 0
	err := q.db.View(func(tx *bbolt.Tx) error {
		s, err := schemaOf(tx)
		if err != nil {
			return err
		}
		n = s.Bucket(eventsBucket).Stats().KeyN
		return nil
	})
	return n, err
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

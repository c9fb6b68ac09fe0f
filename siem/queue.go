package siem

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"github.com/ds4p/ds4p/internal/textcut"
	"go.etcd.io/bbolt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

var (
	rootBucket   = []byte("siem")
	schemaBucket = []byte("v1")
	eventsBucket = []byte("events")
	cursorBucket = []byte("cursor")
	cursorKey    = []byte("cursor")
	// queuedKey (in the cursor bucket) holds the bytes of the queued
	// events' JSON, 8 bytes big-endian, kept with every Emit and ack.
	queuedKey = []byte("queued_bytes")
)

// Cursor is how far the export got: the last ledger seq and the last event
// seq every sink accepted.
type Cursor struct {
	Ledger uint64 `json:"ledger"`
	Events uint64 `json:"events"`
}

// DefaultMaxQueued and DefaultMaxQueuedBytes bound the events waiting for
// the SIEM (a few hundred bytes each), by count and by the bytes of their
// JSON: a sink that is down for long, or a flood of refused tokens, cannot
// fill the disk.
const (
	DefaultMaxQueued      = 1_000_000
	DefaultMaxQueuedBytes = 256 << 20
)

// MaxReasonBytes bounds an event's Reason: Emit cuts a longer one on a
// UTF-8 boundary, ending it in "…". A reason may carry a library's message
// about a caller's input (a refused token), queued for every request.
const MaxReasonBytes = 256

// noisyKinds are the events an unauthenticated or throttled caller raises
// at will: they may fill the queue only to 90 % of its bounds, so that a
// flood of them leaves room for the rest (break_glass, bulk_alert ...).
var noisyKinds = map[string]bool{KindTokenRefused: true, KindRateLimited: true}

// ErrQueueFull is returned by Emit when the queue is at MaxQueued events
// or MaxQueuedBytes (at 90 % of either for token_refused and rate_limited
// events): the new event is dropped, never a queued one, and counted by
// the ds4p.siem.events.dropped metric (attributes kind and limit, "count"
// or "bytes").
var ErrQueueFull = errors.New("siem: the event queue is full")

var meter = otel.Meter("github.com/ds4p/ds4p/siem")

var droppedEvents, _ = meter.Int64Counter("ds4p.siem.events.dropped",
	metric.WithDescription("security events dropped because the SIEM queue was full (limit: count or bytes)"))

// Queue is the durable queue of security events in the bbolt file, and
// the export cursor beside it. It is safe for concurrent use.
type Queue struct {
	db     *bbolt.DB
	now    func() time.Time
	notify chan struct{}
	sealer *seal.Sealer // nil: plaintext (WithSealer)
	// MaxQueued bounds the events not yet delivered (DefaultMaxQueued
	// when 0), MaxQueuedBytes the bytes of their JSON (as queued, before
	// any sealing; DefaultMaxQueuedBytes when 0). Set them before the
	// first Emit.
	MaxQueued      int
	MaxQueuedBytes int64

	// dropped counts, by kind, the events dropped since the last
	// events_dropped event was queued (dropNotice).
	dropMu  sync.Mutex
	dropped map[string]int
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
		if err := q.checkSealing(tx); err != nil {
			return err
		}
		return q.initQueued(schema)
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
// emits), assigning its Seq and, when zero, its Time. A Reason longer than
// MaxReasonBytes is cut. A full queue drops ev (ErrQueueFull).
func (q *Queue) Emit(ev Event) error {
	if ev.Time.IsZero() {
		ev.Time = q.now()
	}
	ev.Time = ev.Time.UTC()
	ev.Reason = textcut.Cut(ev.Reason, MaxReasonBytes)
	maxN, maxBytes := uint64(cmp.Or(q.MaxQueued, DefaultMaxQueued)), uint64(cmp.Or(q.MaxQueuedBytes, DefaultMaxQueuedBytes))
	noisyN, noisyBytes := maxN-maxN/10, maxBytes-maxBytes/10
	if noisyKinds[ev.Kind] {
		maxN, maxBytes = noisyN, noisyBytes
	}
	notice, noticed := q.dropNotice(ev.Time)
	var limit string
	var told bool
	err := q.db.Batch(func(tx *bbolt.Tx) error {
		limit, told = "", false
		s, err := schemaOf(tx)
		if err != nil {
			return err
		}
		b := s.Bucket(eventsBucket)
		cur, err := q.readCursor(s)
		if err != nil {
			return err
		}
		// Checked before NextSequence: a drop leaves no gap in the seqs.
		if b.Sequence()-cur.Events >= maxN {
			limit = "count"
			return ErrQueueFull
		}
		queued, err := q.readQueued(s)
		if err != nil {
			return err
		}
		e := ev
		e.Seq = b.Sequence() + 1
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if queued+uint64(len(v)) > maxBytes {
			limit = "bytes"
			return ErrQueueFull
		}
		// The notice goes ahead of ev, which the bounds admit: it may pass
		// them by one event of a few hundred bytes, once a drop spell. One
		// that tells only of refused tokens and throttled requests waits
		// while the queue is in the room kept for the other kinds (a
		// flood of them would spend that room on notices).
		if notice != nil && (!noisyOnly(noticed) || b.Sequence()-cur.Events+2 <= noisyN && queued+uint64(len(v))+MaxReasonBytes*2 <= noisyBytes) {
			if queued, err = q.put(s, b, *notice, queued); err != nil {
				return err
			}
			told = true
		}
		_, err = q.put(s, b, e, queued)
		return err
	})
	if errors.Is(err, ErrQueueFull) {
		droppedEvents.Add(context.Background(), 1, metric.WithAttributes(attribute.String("kind", ev.Kind), attribute.String("limit", limit)))
		q.dropMu.Lock()
		if q.dropped == nil {
			q.dropped = map[string]int{}
		}
		q.dropped[ev.Kind]++
		q.dropMu.Unlock()
		return err
	}
	if err != nil {
		return fmt.Errorf("siem: queueing a %s event: %w", ev.Kind, err)
	}
	if told {
		q.dropNoticed(noticed)
	}
	q.Notify()
	return nil
}

// put appends e (Seq assigned, the queue's next) to the events bucket b and
// returns the queued bytes with it.
func (q *Queue) put(schema, b *bbolt.Bucket, e Event, queued uint64) (uint64, error) {
	e.Seq = b.Sequence() + 1
	v, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	if seq, err := b.NextSequence(); err != nil || seq != e.Seq {
		return 0, cmp.Or(err, fmt.Errorf("siem: event seq %d, want %d", seq, e.Seq))
	}
	k := seqKey(e.Seq)
	if err := b.Put(k, q.store(eventsName, k, v)); err != nil {
		return 0, err
	}
	queued += uint64(len(v))
	return queued, q.writeQueued(schema, queued)
}

// dropNotice returns the events_dropped event for the events dropped since
// the last one was queued (nil when none were), and their counts, which
// dropNoticed takes off once it is queued. A full queue dropped events
// without a trace in the stream: the seqs go on without a gap, so the SIEM
// could not tell that a break_glass or bulk_alert event was lost.
func (q *Queue) dropNotice(at time.Time) (*Event, map[string]int) {
	q.dropMu.Lock()
	defer q.dropMu.Unlock()
	if len(q.dropped) == 0 {
		return nil, nil
	}
	counts := maps.Clone(q.dropped)
	kinds := slices.Sorted(maps.Keys(counts))
	total := 0
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		total += counts[k]
		parts[i] = k + " " + strconv.Itoa(counts[k])
	}
	return &Event{Time: at, Kind: KindEventsDropped, Severity: SeverityAlert, Count: total,
		Reason: textcut.Cut("security events dropped while the queue was full: "+strings.Join(parts, ", "), MaxReasonBytes)}, counts
}

// noisyOnly reports whether the dropped counts are of noisyKinds alone.
func noisyOnly(counts map[string]int) bool {
	for k := range counts {
		if !noisyKinds[k] {
			return false
		}
	}
	return true
}

// dropNoticed takes off the counts an events_dropped event reported.
func (q *Queue) dropNoticed(counts map[string]int) {
	if len(counts) == 0 {
		return
	}
	q.dropMu.Lock()
	defer q.dropMu.Unlock()
	for k, n := range counts {
		if q.dropped[k] -= n; q.dropped[k] <= 0 {
			delete(q.dropped, k)
		}
	}
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
		var size uint64
		cur := b.Cursor()
		for k, v := cur.First(); k != nil && binary.BigEndian.Uint64(k) <= c.Events; k, v = cur.Next() {
			done = append(done, append([]byte(nil), k...))
			size += q.plainSize(v)
		}
		if len(done) == 0 {
			return nil
		}
		for _, k := range done { // never delete while iterating
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		queued, err := q.readQueued(s)
		if err != nil {
			return err
		}
		if k, _ := b.Cursor().First(); k == nil || size > queued {
			queued, size = 0, 0 // an empty queue holds nothing, whatever the count said
		}
		return q.writeQueued(s, queued-size)
	})
}

// plainSize is the length of the JSON of a queued event stored as v.
func (q *Queue) plainSize(v []byte) uint64 {
	if q.sealer != nil && len(v) >= seal.Overhead {
		return uint64(len(v) - seal.Overhead)
	}
	return uint64(len(v))
}

// readQueued returns the bytes of the queued events' JSON.
func (q *Queue) readQueued(schema *bbolt.Bucket) (uint64, error) {
	v := schema.Bucket(cursorBucket).Get(queuedKey)
	if v == nil {
		return 0, nil
	}
	v, err := q.load(cursorName, queuedKey, v)
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("siem: reading the queued bytes: %w", cmp.Or(err, errors.New("not 8 bytes")))
	}
	return binary.BigEndian.Uint64(v), nil
}

func (q *Queue) writeQueued(schema *bbolt.Bucket, n uint64) error {
	return schema.Bucket(cursorBucket).Put(queuedKey, q.store(cursorName, queuedKey, binary.BigEndian.AppendUint64(nil, n)))
}

// initQueued counts the bytes of the queued events when the store has no
// count yet (a store from before it was kept), once.
func (q *Queue) initQueued(schema *bbolt.Bucket) error {
	if schema.Bucket(cursorBucket).Get(queuedKey) != nil {
		return nil
	}
	var n uint64
	err := schema.Bucket(eventsBucket).ForEach(func(_, v []byte) error {
		n += q.plainSize(v)
		return nil
	})
	if err != nil {
		return err
	}
	return q.writeQueued(schema, n)
}

// QueuedBytes returns the bytes of the queued events' JSON, as
// MaxQueuedBytes bounds them.
func (q *Queue) QueuedBytes() (int64, error) {
	var n uint64
	err := q.db.View(func(tx *bbolt.Tx) error {
		s, err := schemaOf(tx)
		if err != nil {
			return err
		}
		n, err = q.readQueued(s)
		return err
	})
	return int64(n), err
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

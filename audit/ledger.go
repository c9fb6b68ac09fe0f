package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Bucket and key names; see the package doc for the tree.
var (
	rootBucket           = []byte("audit")
	schemaBucket         = []byte("v1")
	entriesBucket        = []byte("entries")
	legacyPatientsBucket = []byte("patients") // schema 1 only
	headBucket           = []byte("head")
	headKey              = []byte("head")
	metaBucket           = []byte("meta")
	versionKey           = []byte("version")
	migratedKey          = []byte("migrated")
	checkpointKey        = []byte("checkpoint")
)

// schemaVersion is the layout this package writes; see the package doc.
const schemaVersion = 2

// Ledger is the disclosure ledger on a bbolt database. It is safe for
// concurrent use.
type Ledger struct {
	db          *bbolt.DB
	now         func() time.Time
	verifyChunk int
	// afterVerifyChunk, when set (tests), runs between Verify's chunks.
	afterVerifyChunk func()
	gc               groupCommit
	codec            codec // plaintext unless WithSealer
	// w serialises appends and indexing; indexEvery is how many entries
	// wait for their index keys before a commit writes them (deferred.go).
	w          writer
	indexEvery int
	// recent holds the latest commits' entries for EntriesAfter (recent.go).
	recent *recent
	// journalSize and j: the write-ahead journal (journal.go); j is nil
	// when it is off or the ledger is read-only.
	journalSize int64
	j           *journal
	applyDelay  time.Duration
	recovered   int // entries Open stored from the journal
	// minRetention: see WithMinRetention (0: not checked).
	minRetention time.Duration
	// pendingJournal: WithPendingJournal; journaled is what a read-only
	// Open so read from the journal, in seq order.
	pendingJournal bool
	journaled      []journalEntry
	// beforeApply, when set (tests), runs before each apply and may fail it.
	beforeApply func() error
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithClock sets the clock that stamps entries without a Time.
func WithClock(now func() time.Time) Option {
	return func(l *Ledger) { l.now = now }
}

// Open returns a Ledger on db, creating its buckets if needed and migrating
// an older schema (building the secondary indexes). It refuses a database
// opened with NoSync, since entries must be durable before Append returns.
// On a database opened ReadOnly it creates and migrates nothing: the ledger
// must exist at the current schema, and Append and Prune fail. The caller
// owns db and closes it after the last use of the Ledger.
func Open(db *bbolt.DB, opts ...Option) (*Ledger, error) {
	if db.NoSync && !db.IsReadOnly() {
		return nil, errors.New("audit: opening ledger: the database has NoSync set, so entries would not be durable")
	}
	l := &Ledger{db: db, now: time.Now, verifyChunk: defaultVerifyChunk, indexEvery: defaultIndexEvery, recent: newRecent(),
		journalSize: DefaultJournalSize, applyDelay: defaultApplyDelay}
	for _, opt := range opts {
		opt(l)
	}
	if l.journalSize != 0 && l.journalSize < MinJournalSize {
		return nil, fmt.Errorf("audit: opening ledger: a journal of %d bytes is too small (at least %d, or 0 for none)", l.journalSize, MinJournalSize)
	}
	// Before anything is written: an encrypted file needs its sealer.
	if err := db.View(l.codec.check); err != nil {
		return nil, err
	}
	if db.IsReadOnly() {
		if err := db.View(l.checkReadable); err != nil {
			return nil, err
		}
		return l, l.checkJournalReadOnly()
	}
	if err := db.Update(l.createBuckets); err != nil {
		return nil, fmt.Errorf("audit: creating buckets: %w", err)
	}
	if err := migrate(db, migrateChunk); err != nil {
		return nil, err
	}
	if err := l.checkHeadAtEnd(); err != nil {
		return nil, err
	}
	if err := l.openJournal(); err != nil {
		return nil, err
	}
	if err := l.finishOpen(); err != nil {
		l.dropJournal()
		return nil, err
	}
	return l, nil
}

// finishOpen indexes and encrypts what needs it, then starts the journal.
func (l *Ledger) finishOpen() error {
	if err := l.db.Update(l.indexAtOpen); err != nil {
		return fmt.Errorf("audit: indexing entries a crash left unindexed: %w", err)
	}
	if l.codec.sealed() {
		if err := l.migrateSealed(migrateChunk); err != nil {
			return err
		}
	}
	return l.startJournal()
}

// indexAtOpen writes the index keys of entries that were waiting for them
// when the process that appended them stopped without IndexPending (a
// crash). A ledger the encryption migration has not started on is read as
// plaintext (migrateSealedStep does this too, for one it has).
func (l *Ledger) indexAtOpen(tx *bbolt.Tx) error {
	if l.codec.sealed() {
		plain, err := bucketsOf(tx, codec{})
		if err != nil {
			return err
		}
		if readVersion(plain.meta) < sealedSchemaVersion {
			if plain.meta.Get(migratedKey) != nil {
				return nil // half encrypted: migrateSealedStep indexed it first
			}
			return indexAllPlain(plain)
		}
	}
	b, err := l.buckets(tx)
	if err != nil {
		return err
	}
	return indexAll(b)
}

// indexAll writes the index keys of every waiting entry of b.
func indexAll(b buckets) error {
	head, indexed, err := b.headAndMark()
	if err != nil || indexed >= head {
		return err
	}
	_, err = settleIndex(b, indexed, head, nil, 1)
	return err
}

// indexAllPlain is indexAll for a plaintext ledger.
func indexAllPlain(b buckets) error { b.c = codec{}; return indexAll(b) }

// checkHeadAtEnd refuses a file whose entries go on past its head: the
// next append continues the head, so a head set back (a plaintext one
// rewritten, an older sealed one restored from a backup) or deleted made
// the appends overwrite the entries after it, destroying them. No crash
// leaves that (an entry and the head are written in one transaction;
// prune deletes entries, never the head).
func (l *Ledger) checkHeadAtEnd() error {
	head, _, _, err := l.fileHead()
	if err != nil {
		return fmt.Errorf("audit: opening ledger: %w", err)
	}
	return l.db.View(func(tx *bbolt.Tx) error {
		b, err := bucketsOf(tx, codec{}) // keys are plaintext seqs either way
		if err != nil {
			return fmt.Errorf("audit: opening ledger: %w", err)
		}
		if k, _ := b.entries.Cursor().Last(); len(k) == 8 && binary.BigEndian.Uint64(k) > head {
			return fmt.Errorf("audit: opening ledger: its entries go on to seq %d past its head (seq %d): the head was altered, deleted or restored from an older copy, "+
				"and appending would overwrite the entries after it. Nothing was written; ds4p audit verify reports the ledger's state", binary.BigEndian.Uint64(k), head)
		}
		return nil
	})
}

// checkReadable checks that a read-only ledger exists at the current schema.
func (l *Ledger) checkReadable(tx *bbolt.Tx) error {
	if tx.Bucket(rootBucket) == nil { // no ledger yet: opening read-write creates it
		return fmt.Errorf("audit: opening ledger: %w", ErrNeedsMigration)
	}
	b, err := bucketsOf(tx, l.codec)
	if err != nil {
		return fmt.Errorf("audit: opening ledger: %w", err)
	}
	if readVersion(b.meta) < l.codec.version() {
		return fmt.Errorf("audit: opening ledger: %w", ErrNeedsMigration)
	}
	return nil
}

// buckets finds the ledger's buckets in tx, with its codec.
func (l *Ledger) buckets(tx *bbolt.Tx) (buckets, error) { return bucketsOf(tx, l.codec) }

// createBuckets creates the bucket tree drawn in the package doc. A new
// ledger is at the current schema at once; an existing one without a
// version is left for migrate.
func (l *Ledger) createBuckets(tx *bbolt.Tx) error {
	root, err := tx.CreateBucketIfNotExists(rootBucket)
	if err != nil {
		return err
	}
	fresh := root.Bucket(schemaBucket) == nil
	schema, err := root.CreateBucketIfNotExists(schemaBucket)
	if err != nil {
		return err
	}
	names := [][]byte{entriesBucket, headBucket, metaBucket}
	for _, ix := range indexes {
		names = append(names, ix.name)
	}
	for _, name := range names {
		if _, err := schema.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	if !fresh {
		return nil
	}
	if l.codec.sealed() {
		b, err := bucketsOf(tx, l.codec)
		if err != nil {
			return err
		}
		if err := b.writeKeyedFrom(1); err != nil {
			return err
		}
	}
	return schema.Bucket(metaBucket).Put(versionKey, []byte{l.codec.version()})
}

// buckets are the ledger's buckets within one transaction. The index
// buckets are opened when first used (ix): an append that leaves the
// index keys waiting (deferred.go) touches none of them, and each bucket
// opened costs a lookup and, at commit, a look at whether it changed.
type buckets struct {
	schema, entries, head, meta *bbolt.Bucket
	index                       map[*index]*bbolt.Bucket
	c                           codec
}

// bucketsOf finds the ledger's buckets in tx, read and written with c.
func bucketsOf(tx *bbolt.Tx, c codec) (buckets, error) {
	root := tx.Bucket(rootBucket)
	if root == nil || root.Bucket(schemaBucket) == nil {
		return buckets{}, errors.New("buckets missing: was the ledger opened with Open?")
	}
	schema := root.Bucket(schemaBucket)
	b := buckets{
		schema:  schema,
		entries: schema.Bucket(entriesBucket),
		head:    schema.Bucket(headBucket),
		meta:    schema.Bucket(metaBucket),
		index:   make(map[*index]*bbolt.Bucket, len(indexes)),
		c:       c,
	}
	if b.entries == nil || b.head == nil || b.meta == nil {
		return buckets{}, errors.New("buckets missing: was the ledger opened with Open?")
	}
	return b, nil
}

// ix returns the bucket of index ix, opening it on first use.
func (b buckets) ix(ix *index) (*bbolt.Bucket, error) {
	if bk := b.index[ix]; bk != nil {
		return bk, nil
	}
	bk := b.schema.Bucket(ix.name)
	if bk == nil {
		return nil, fmt.Errorf("the %s index bucket is missing: was the ledger opened with Open?", ix.name)
	}
	if ix == byTime {
		// Keyed in ascending order, as the entries (see appendBatches).
		bk.FillPercent = 1
	}
	b.index[ix] = bk
	return bk, nil
}

// Append assigns each entry its Seq (and its Time, when zero), links it to
// the chain and stores all of them in one transaction, fsynced before Append
// returns. Concurrent calls are grouped into one commit (see groupCommit) and their entries
// stay in one linear chain; the entries of one call are consecutive. The
// caller's entries are not modified.
func (l *Ledger) Append(ctx context.Context, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit: appending: %w", err)
	}
	batch, err := prepare(entries)
	if err != nil {
		return fmt.Errorf("audit: appending: %w", err)
	}
	start := time.Now()
	err = l.commit(batch)
	appendWait.Record(ctx, time.Since(start).Seconds(), appendWaitAttrs[err == nil]...)
	if err != nil {
		return fmt.Errorf("audit: appending: %w", err)
	}
	return nil
}

// appendWait is how long Append waits for its entries to be durable (the
// group commit's transaction and fsync): the part of a response's latency
// that the ledger's durability costs, which operators and load tests read
// apart from the rest (ds4p.ledger.append.duration, seconds).
var appendWait, _ = otel.Meter("github.com/ds4p/ds4p/audit").Float64Histogram("ds4p.ledger.append.duration",
	metric.WithUnit("s"),
	metric.WithDescription("time an append waits until its entries are durable (transaction and fsync, shared by a group commit)"),
	metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1))

// appendWaitAttrs are Record's options by outcome, as prebuilt slices:
// a variadic argument built at each call escapes to the heap.
var appendWaitAttrs = map[bool][]metric.RecordOption{
	true:  {metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "durable")))},
	false: {metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", "failed")))},
}

// prepare copies entries into canonical form and checks what the keys need.
func prepare(entries []Entry) ([]Entry, error) {
	batch := make([]Entry, len(entries))
	for i, e := range entries {
		batch[i] = canonical(e)
		if err := checkIndexable(&batch[i]); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return batch, nil
}

// appendTx links and stores batch after the current head and returns the
// index keys its entries wait for. It works on copies, so a rerun starts
// from the same entries.
//
// It appends the linked entries to *linked, for recent once the
// transaction commits.
func (l *Ledger) appendTx(b buckets, batch []Entry, now time.Time, linked *[]Entry) ([]waitingKeys, error) {
	seq, prev, err := b.readHead()
	if err != nil {
		return nil, err
	}
	chain := sha256.New
	if b.c.sealed() {
		chain = b.c.s.ChainMAC // a sealed ledger's new links are always keyed
	}
	waiting := make([]waitingKeys, 0, len(batch))
	for _, e := range batch {
		seq++
		e.Seq, e.PrevHash = seq, prev
		if e.Time.IsZero() {
			e.Time = now.UTC()
		}
		if err := putEntry(b, &e, chain); err != nil {
			return nil, fmt.Errorf("storing seq %d: %w", seq, err)
		}
		waiting = append(waiting, keysOf(b.c, &e))
		*linked = append(*linked, e)
		prev = e.Hash
	}
	return waiting, b.writeHead(seq, prev)
}

// putEntry links e under chain and stores it (sealed, in an encrypted
// ledger); its index keys are written later (deferred.go).
func putEntry(b buckets, e *Entry, chain chainFunc) error {
	value, err := link(e, chain)
	if err != nil {
		return err
	}
	return b.entries.Put(seqKey(e.Seq), b.c.storeEntry(e.Seq, value))
}

// seqKey encodes seq big-endian.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

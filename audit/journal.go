package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/seal"
	"go.etcd.io/bbolt"
)

// The write-ahead journal. A durable bbolt commit writes the dirty pages,
// fdatasyncs, writes its meta page and fdatasyncs again, in the ledger's
// nested buckets ~330–410 µs on the disk BenchmarkDurableWrite measured; one
// write into a preallocated file and one fdatasync took 73–104 µs. So
// Append links its group's entries in memory, writes them as one record to
// the journal, fdatasyncs it, and returns: the entries are durable. An
// applier then stores them in bbolt behind it, grouping whatever the
// journal took meanwhile into one transaction, exactly as the group commit
// would have (the same values, head and deferred index keys).
//
// What keeps this as safe as committing to bbolt first:
//   - Every read of the ledger (Find, EntriesAfter, Verify, Export, Head,
//     HashAt, Checkpoint, Prune, IndexPending) first waits until the
//     applier has stored every entry journaled before it started (barrier),
//     so no reader misses an entry whose Append returned.
//   - Open (read-write) applies what a crash left in the journal before
//     anything else reads or writes the ledger, checking that each entry
//     continues the file's chain (seq and previous hash). A read-only open
//     that finds such entries fails with [ErrNeedsRecovery] rather than
//     answer without them.
//   - If the journal write, its fdatasync or an apply fails, the ledger
//     refuses every later append and read (fail closed): after a failed
//     fdatasync the kernel may have dropped the pages, and after a failed
//     apply bbolt lacks entries that callers were told are durable.
//     Reopening recovers from the journal.
//   - Journal records are the values bbolt stores (compressed when large,
//     sealed in an encrypted ledger), so the journal holds no plaintext an
//     encrypted ledger would not.
//
// The file (<database>-ledger-journal) has a fixed size, written with zeros
// and synced when created, so that a record's fdatasync flushes data only,
// not the file's size or block map. Records are written one after another
// from offset 0; a record that does not fit waits for the applier and
// starts again at 0. Recovery reads from offset 0 while each record is
// whole (magic, length within the file, CRC-32C) and continues the seq of
// the one before it: a torn last write, or the older records a wrap left
// beyond the newest, end it. A group too large for a quarter of the journal
// is committed to bbolt directly, as without a journal, after the applier
// caught up; the journal then starts again at 0 so its seqs stay
// consecutive.
//
// Record layout (little endian):
//
//	magic u32 | payload length u32 | CRC-32C of payload u32 | payload
//	payload: flags u8 (1: sealed) | first seq u64 | count u32 |
//	         count × (value length u32 | value)

// ErrNeedsRecovery says a read-only ledger's journal holds entries its
// database file does not have yet: a process appended them and stopped
// before storing them (a crash).
var ErrNeedsRecovery = errors.New("the ledger's journal holds entries not yet in the database file (ds4p stopped without finishing them); open it read-write once (ds4p serve, or any ds4p audit command with serve stopped) to apply them")

// DefaultJournalSize is the size of the ledger's journal file. A read's
// entry takes ~0.5–1 KB and a 1,000-item search's ~5–30 KB compressed, and
// the applier trails the journal by one bbolt commit, so 1 MiB wraps
// rarely, and then waits only for that commit.
const DefaultJournalSize = 1 << 20

// defaultApplyDelay is how long the applier gathers journaled groups
// before it stores them in one bbolt commit, unless a reader waits (a
// waiting reader starts it at once). Interleaved wrk reads through serve,
// three rounds: 25 ms took ds4p's CPU per read 3–8 % below 5 ms (fewer
// commits, each with its fixed pages and two fdatasyncs), and readers
// never wait for the delay.
const defaultApplyDelay = 25 * time.Millisecond

// MinJournalSize is the smallest journal WithJournalSize accepts.
const MinJournalSize = 64 << 10

const (
	journalMagic  = 0x4a345344 // "DS4J" little endian
	journalHeader = 12
	journalSealed = 1
	// journalSuffix names the journal beside the database file.
	journalSuffix = "-ledger-journal"
)

var journalCRC = crc32.MakeTable(crc32.Castagnoli)

// WithJournalSize sets the journal's size in bytes (at least 64 KiB): Open
// creates it so, and grows a smaller existing one (never shrinks it). 0
// turns the journal off: every append then commits to bbolt before it
// returns (a journal a crash left is still applied by Open).
func WithJournalSize(n int64) Option {
	return func(l *Ledger) { l.journalSize = n }
}

// JournalPath is where the ledger on the database file dbPath keeps its
// journal.
func JournalPath(dbPath string) string { return dbPath + journalSuffix }

// journal is the write-ahead journal's state. f, off, seq and hash belong
// to the group commit's leader (one at a time) and Open; mu guards the rest.
type journal struct {
	f    *os.File
	path string
	size int64
	off  int64
	seq  uint64 // last seq linked: journaled or committed to bbolt
	hash string
	// rec is the buffer writeRecord lays records out in, kept for the
	// next (the group commit's leader alone writes records, one at a
	// time): an allocation of the record's size per group otherwise.
	rec []byte

	mu        sync.Mutex
	journaled uint64 // last seq durable (in the journal or in bbolt)
	applied   uint64 // last seq stored in bbolt
	queue     []applyGroup
	applying  bool
	err       error         // sticky: the ledger refuses appends and reads
	changed   chan struct{} // closed and replaced when applied or err change
	kick      chan struct{} // a reader waits: apply now
	closed    bool
}

// applyGroup is one journal record on its way to bbolt.
type applyGroup struct {
	entries []Entry  // linked (Seq, PrevHash, Hash, Time set)
	values  [][]byte // the stored values, as journaled
}

// openJournal opens (creating and zero-filling if needed) the journal of a
// writable ledger, applies what it holds beyond the database's head, and
// leaves it ready to be written from offset 0.
func (l *Ledger) openJournal() error {
	path := JournalPath(l.db.Path())
	// bbolt's lock keeps other processes out; within this one, a ledger
	// opened again on the same file takes the journal over.
	journals.Lock()
	defer journals.Unlock()
	if old := journals.m[path]; old != nil {
		old.retire()
		delete(journals.m, path)
	}
	if l.journalSize == 0 {
		// Off, but a journal left by a crash is still applied.
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: opening the journal: %w", err)
	}
	fail := func(err error) error { _ = f.Close(); return err }
	j := &journal{f: f, path: path, changed: make(chan struct{}), kick: make(chan struct{}, 1)}
	st, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("audit: opening the journal: %w", err))
	}
	j.size = st.Size()
	// Whether this Open encrypts a plaintext ledger: its journal's records
	// are plaintext then, and are zeroed once recovered (clearPlaintext).
	_, _, sealedFile, err := l.fileHead()
	if err != nil {
		return fail(fmt.Errorf("audit: opening the journal: %w", err))
	}
	if l.journalSize == 0 {
		recs, buf, err := readJournalBytes(f, j.size)
		if err == nil {
			err = l.recoverJournal(recs)
		}
		if err == nil {
			err = l.clearPlaintext(f, buf, sealedFile)
		}
		return errors.Join(err, f.Close())
	}
	if j.size < l.journalSize {
		if err := zeroFill(f, j.size, l.journalSize); err != nil {
			return fail(fmt.Errorf("audit: preparing the journal: %w", err))
		}
		if j.size == 0 {
			if err := syncDir(filepath.Dir(path)); err != nil {
				return fail(fmt.Errorf("audit: preparing the journal: %w", err))
			}
		}
		j.size = l.journalSize
	}
	recs, buf, err := readJournalBytes(f, j.size)
	if err != nil {
		return fail(err)
	}
	if err := l.recoverJournal(recs); err != nil {
		return fail(err)
	}
	if err := l.clearPlaintext(f, buf, sealedFile); err != nil {
		return fail(err)
	}
	l.j = j
	journals.m[path] = l
	return nil
}

// clearPlaintext zeroes the journal f, whose bytes are buf, once what it
// held is recovered, when an encrypted ledger's journal may still hold
// plaintext: this Open encrypts a plaintext ledger (sealedFile false), or
// a record header anywhere in it says it is plaintext. Records are read
// from offset 0 only while they are whole, so deciding on those alone
// left the plaintext records after a torn first record; and with the
// journal off (ledger.journal_bytes 0) nothing was zeroed at all.
func (l *Ledger) clearPlaintext(f *os.File, buf []byte, sealedFile bool) error {
	if !l.codec.sealed() || len(buf) == 0 || sealedFile && !holdsPlaintextRecord(buf) {
		return nil
	}
	// Encrypting a plaintext ledger: leave no plaintext copy behind.
	if err := zeroFill(f, 0, int64(len(buf))); err != nil {
		return fmt.Errorf("audit: clearing the journal: %w", err)
	}
	return nil
}

// holdsPlaintextRecord reports whether a record header with the
// plaintext flag lies anywhere in the journal's bytes, whole or not.
func holdsPlaintextRecord(buf []byte) bool {
	magic := binary.LittleEndian.AppendUint32(nil, journalMagic)
	for off := 0; ; off++ {
		i := bytes.Index(buf[off:], magic)
		if i < 0 {
			return false
		}
		off += i
		if off+journalHeader < len(buf) && buf[off+journalHeader]&journalSealed == 0 {
			return true
		}
	}
}

// journals are the ledgers with an open journal, by its path.
var journals = struct {
	sync.Mutex
	m map[string]*Ledger
}{m: map[string]*Ledger{}}

// dropJournal closes the journal of a ledger whose Open failed after
// opening it.
func (l *Ledger) dropJournal() {
	if l.j == nil {
		return
	}
	journals.Lock()
	defer journals.Unlock()
	if journals.m[l.j.path] == l {
		delete(journals.m, l.j.path)
	}
	_ = l.j.f.Close()
}

// startJournal takes the head the journal's next record continues, once
// Open has migrated the file.
func (l *Ledger) startJournal() error {
	j := l.j
	if j == nil {
		return nil
	}
	head, hash, _, err := l.fileHead()
	if err != nil {
		return fmt.Errorf("audit: opening the journal: %w", err)
	}
	j.seq, j.hash, j.journaled, j.applied = head, hash, head, head
	return nil
}

// fileHead reads the database file's head, and whether the file is
// encrypted (a plaintext ledger Open has not encrypted yet is read as
// plaintext).
func (l *Ledger) fileHead() (head uint64, hash string, sealedFile bool, err error) {
	err = l.db.View(func(tx *bbolt.Tx) error {
		plain, err := bucketsOf(tx, codec{})
		if err != nil {
			return err
		}
		sealedFile = readVersion(plain.meta) >= sealedSchemaVersion
		c := codec{}
		if sealedFile {
			c = l.codec
		}
		b, err := bucketsOf(tx, c)
		if err != nil {
			return err
		}
		head, hash, err = b.readHead()
		return err
	})
	return head, hash, sealedFile, err
}

// zeroFill writes zeros from..to and syncs them.
func zeroFill(f *os.File, from, to int64) error {
	zeros := make([]byte, 64<<10)
	for off := from; off < to; off += int64(len(zeros)) {
		n := min(int64(len(zeros)), to-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
	}
	return f.Sync()
}

// journalRecord is one record as read back: its stored values and whether
// they are sealed.
type journalRecord struct {
	first  uint64
	sealed bool
	values [][]byte
}

// readJournal returns the records from offset 0 while they are whole and
// consecutive (see the layout above).
func readJournal(f io.ReaderAt, size int64) ([]journalRecord, error) {
	recs, _, err := readJournalBytes(f, size)
	return recs, err
}

// readJournalBytes is readJournal, also returning the journal's bytes.
func readJournalBytes(f io.ReaderAt, size int64) ([]journalRecord, []byte, error) {
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("audit: reading the journal: %w", err)
	}
	var out []journalRecord
	next := uint64(0)
	for off := 0; off+journalHeader <= len(buf); {
		h := buf[off : off+journalHeader]
		if binary.LittleEndian.Uint32(h) != journalMagic {
			break
		}
		n := int(binary.LittleEndian.Uint32(h[4:]))
		if n < 13 || n > len(buf)-off-journalHeader {
			break
		}
		payload := buf[off+journalHeader : off+journalHeader+n]
		if crc32.Checksum(payload, journalCRC) != binary.LittleEndian.Uint32(h[8:]) {
			break
		}
		rec, ok := parseRecord(payload)
		if !ok || (next != 0 && rec.first != next) {
			break
		}
		next = rec.first + uint64(len(rec.values))
		out = append(out, rec)
		off += journalHeader + n
	}
	return out, buf, nil
}

// parseRecord splits a whole record's payload.
func parseRecord(p []byte) (journalRecord, bool) {
	rec := journalRecord{sealed: p[0]&journalSealed != 0, first: binary.LittleEndian.Uint64(p[1:])}
	count := binary.LittleEndian.Uint32(p[9:])
	p = p[13:]
	if rec.first == 0 || count == 0 {
		return rec, false
	}
	for range count {
		if len(p) < 4 {
			return rec, false
		}
		n := binary.LittleEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return rec, false
		}
		rec.values = append(rec.values, p[4:4+n])
		p = p[4+n:]
	}
	return rec, len(p) == 0
}

// recoverJournal stores the records' entries after the database's head.
func (l *Ledger) recoverJournal(recs []journalRecord) error {
	head, _, sealedFile, err := l.fileHead()
	if err != nil {
		return fmt.Errorf("audit: recovering the journal: %w", err)
	}
	if err := l.journalMatchesFile(recs, head, sealedFile); err != nil {
		return err
	}
	var g applyGroup
	for _, rec := range recs {
		last := rec.first + uint64(len(rec.values)) - 1
		if last <= head {
			continue
		}
		if rec.sealed != sealedFile {
			return fmt.Errorf("audit: recovering the journal: its entries from seq %d are %s but the ledger file is %s", rec.first, sealedWord(rec.sealed), sealedWord(sealedFile))
		}
		c := codec{}
		if rec.sealed {
			c = l.codec
		}
		for i, v := range rec.values {
			seq := rec.first + uint64(i)
			if seq <= head {
				continue
			}
			e, err := decodeStored(c, seq, v)
			if err != nil {
				return fmt.Errorf("audit: recovering the journal: seq %d: %w", seq, err)
			}
			g.entries = append(g.entries, e)
			g.values = append(g.values, v)
		}
	}
	if len(g.entries) == 0 {
		return nil
	}
	c := codec{}
	if sealedFile {
		c = l.codec
	}
	if err := l.applyGroups(c, []applyGroup{g}); err != nil {
		return fmt.Errorf("audit: recovering the journal %s: %w (if the database file was replaced on purpose, move the journal away)", JournalPath(l.db.Path()), err)
	}
	l.recovered = len(g.entries)
	return nil
}

// journalMatchesFile checks that the journal's entries at or before the
// file's head are the file's (the same hash), as verify does
// (verifyJournal): the file was replaced otherwise (a plaintext ledger
// rewritten into another chain, another ledger's file), and the first
// append would write over the journal that shows it. An entry the file no
// longer holds (pruned), of the other kind than the file, or that does not
// open (a removed key) is not compared.
func (l *Ledger) journalMatchesFile(recs []journalRecord, head uint64, sealedFile bool) error {
	c := codec{}
	if sealedFile {
		c = l.codec
	}
	return l.db.View(func(tx *bbolt.Tx) error {
		b, err := bucketsOf(tx, c)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.first > head || rec.sealed != sealedFile {
				continue
			}
			for i, v := range rec.values {
				seq := rec.first + uint64(i)
				if seq > head {
					break
				}
				stored := b.entries.Get(seqKey(seq))
				if stored == nil {
					continue
				}
				je, jerr := decodeStored(c, seq, v)
				fe, _, ferr := b.entry(seqKey(seq), stored)
				if jerr == nil && ferr == nil && je.Hash != fe.Hash {
					return fmt.Errorf("audit: recovering the journal %s: seq %d: the journal holds another entry than the database file, so it does not continue the file's chain: the file was replaced, or the journal belongs to another chain "+
						"(if the database file was replaced on purpose, move the journal away)", JournalPath(l.db.Path()), seq)
				}
			}
		}
		return nil
	})
}

// Recovered is how many entries Open stored from the journal: appended by
// a process that stopped before storing them (a crash). Zero after a clean
// stop.
func (l *Ledger) Recovered() int { return l.recovered }

func sealedWord(sealed bool) string {
	if sealed {
		return "encrypted"
	}
	return "plaintext"
}

// decodeStored decodes a stored entry value of seq.
func decodeStored(c codec, seq uint64, v []byte) (Entry, error) {
	e, _, err := decodeStoredPlain(c, seq, v)
	return e, err
}

// decodeStoredPlain decodes a stored entry value of seq and returns its
// canonical JSON too.
func decodeStoredPlain(c codec, seq uint64, v []byte) (Entry, []byte, error) {
	plain, err := c.load(entriesName, seqKey(seq), v)
	if err != nil {
		return Entry{}, nil, err
	}
	if plain, err = decompressEntry(plain); err != nil {
		return Entry{}, nil, err
	}
	e, err := decodeEntry(plain)
	if err == nil && e.Seq != seq {
		err = fmt.Errorf("the entry says seq %d", e.Seq)
	}
	return e, plain, err
}

// WithPendingJournal makes a read-only Open of a ledger whose journal
// holds entries its database file does not have yet (a crash) succeed
// rather than fail with ErrNeedsRecovery, without applying them: the
// journal's entries are read into memory, and VerifyWith checks them
// against the file (an entry the file holds must have the journaled hash)
// and after it (VerifyResult.Pending), and HashAt finds them. Other reads
// do not see them. Neither the database file nor the journal is written.
// On a writable database it does nothing: Open applies the journal.
// `ds4p audit verify` opens ledgers so.
func WithPendingJournal() Option {
	return func(l *Ledger) { l.pendingJournal = true }
}

// journalEntry is one entry a ledger opened WithPendingJournal read from
// its journal: decoded, or why it is not.
type journalEntry struct {
	seq   uint64
	e     Entry
	plain []byte
	err   error
}

// readPending reads every entry of the journal's records (in seq order)
// for a read-only ledger opened WithPendingJournal.
func (l *Ledger) readPending(recs []journalRecord) error {
	_, _, sealedFile, err := l.fileHead()
	if err != nil {
		return fmt.Errorf("audit: opening ledger: %w", err)
	}
	for _, rec := range recs {
		c := codec{}
		if rec.sealed {
			c = l.codec
		}
		for i, v := range rec.values {
			je := journalEntry{seq: rec.first + uint64(i)}
			switch {
			case rec.sealed != sealedFile:
				je.err = fmt.Errorf("journaled %s but the ledger file is %s", sealedWord(rec.sealed), sealedWord(sealedFile))
			case rec.sealed && !l.codec.sealed():
				je.err = errors.New("journaled encrypted, and there is no storage key")
			default:
				je.e, je.plain, je.err = decodeStoredPlain(c, je.seq, v)
			}
			l.journaled = append(l.journaled, je)
		}
	}
	return nil
}

// journaledHash returns the hash of seq as the journal holds it (a ledger
// opened WithPendingJournal).
func (l *Ledger) journaledHash(seq uint64) (string, bool) {
	for _, je := range l.journaled {
		if je.seq == seq && je.err == nil {
			return je.e.Hash, true
		}
	}
	return "", false
}

// JournalSpan returns the seqs of the first and last entry the journal
// beside the database file dbPath holds (its whole, consecutive records
// from offset 0), or 0 and 0 when it holds none or does not exist. It
// reads the journal only: `ds4p audit verify` asks it when the database
// holds no ledger at all, which no crash leaves beside journaled entries
// (Open creates the ledger before the first append).
func JournalSpan(dbPath string) (first, last uint64, err error) {
	f, err := os.Open(JournalPath(dbPath))
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("audit: opening the journal: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("audit: opening the journal: %w", err)
	}
	recs, err := readJournal(f, st.Size())
	if err != nil || len(recs) == 0 {
		return 0, 0, err
	}
	end := recs[len(recs)-1]
	return recs[0].first, end.first + uint64(len(end.values)) - 1, nil
}

// checkJournalReadOnly fails with ErrNeedsRecovery when a read-only
// ledger's journal holds entries beyond its database's head.
func (l *Ledger) checkJournalReadOnly() error {
	f, err := os.Open(JournalPath(l.db.Path()))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit: opening the journal: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("audit: opening the journal: %w", err)
	}
	recs, err := readJournal(f, st.Size())
	if err != nil || len(recs) == 0 {
		return err
	}
	if l.pendingJournal {
		return l.readPending(recs)
	}
	last := recs[len(recs)-1]
	lastSeq := last.first + uint64(len(last.values)) - 1
	head, _, _, err := l.fileHead()
	if err != nil {
		return fmt.Errorf("audit: opening ledger: %w", err)
	}
	if lastSeq > head {
		return fmt.Errorf("audit: opening ledger: %w (%d entries)", ErrNeedsRecovery, lastSeq-head)
	}
	return nil
}

// journalGroup links the group's batches after the journal's head, writes
// them as one record, fdatasyncs it and queues them for the applier. A
// batch that fails to link fails alone. It runs in the group commit's
// leader.
func (l *Ledger) journalGroup(group []*pendingAppend) {
	j := l.j
	if err := j.failed(); err != nil {
		for _, p := range group {
			p.finish(err)
		}
		return
	}
	now := l.now()
	chain := chainFor(l.codec)
	seq, prev := j.seq, j.hash
	var g applyGroup
	ok := group[:0] // filtered in place: the leader owns group
	size := journalHeader + 13
	for _, p := range group {
		n := len(g.entries)
		s, h := seq, prev
		var err error
		for i := range p.batch {
			s++
			// Linked in its place in the group (a copy on the heap
			// otherwise); the batch stays as given, for commitDirect.
			g.entries = append(g.entries, p.batch[i])
			e := &g.entries[len(g.entries)-1]
			e.Seq, e.PrevHash = s, h
			if e.Time.IsZero() {
				e.Time = now.UTC()
			}
			var value []byte
			if value, err = link(e, chain); err != nil {
				err = fmt.Errorf("storing seq %d: %w", s, err)
				break
			}
			stored := l.codec.storeEntry(s, value)
			g.values = append(g.values, stored)
			size += 4 + len(stored)
			h = e.Hash
		}
		if err != nil {
			g.entries, g.values = g.entries[:n], g.values[:n]
			size = journalHeader + 13
			for _, v := range g.values {
				size += 4 + len(v)
			}
			p.finish(err)
			continue
		}
		seq, prev = s, h
		ok = append(ok, p)
	}
	if len(ok) == 0 {
		return
	}
	if int64(size) > j.size/4 {
		l.commitDirect(now, ok)
		return
	}
	err := l.writeRecord(g, size)
	if err == nil {
		j.seq, j.hash = seq, prev
		j.mu.Lock()
		j.journaled = seq
		j.queue = append(j.queue, g)
		if !j.applying {
			j.applying = true
			go l.applyLoop()
		}
		j.mu.Unlock()
	}
	for _, p := range ok {
		p.finish(err)
	}
}

// chainFor is how new links are hashed: keyed in an encrypted ledger.
func chainFor(c codec) chainFunc {
	if c.sealed() {
		return c.s.ChainMAC
	}
	return sha256.New
}

// writeRecord writes g as one record and fdatasyncs it; after a failure
// the ledger refuses everything (the package comment says why).
func (l *Ledger) writeRecord(g applyGroup, size int) error {
	j := l.j
	if cap(j.rec) < size {
		j.rec = make([]byte, 0, size)
	}
	buf := appendRecord(j.rec[:0], l.codec.sealed(), g.entries[0].Seq, g.values)
	if cap(buf) <= maxKeptRecord {
		j.rec = buf[:0]
	} else {
		j.rec = nil
	}
	if j.off+int64(len(buf)) > j.size {
		// Everything before must be in bbolt before its records are overwritten.
		if err := l.barrier(context.Background()); err != nil {
			return err
		}
		j.off = 0
	}
	if _, err := j.f.WriteAt(buf, j.off); err != nil {
		return j.fail(fmt.Errorf("writing the journal: %w", err))
	}
	if err := fdatasync(j.f); err != nil {
		return j.fail(fmt.Errorf("syncing the journal: %w", err))
	}
	j.off += int64(len(buf))
	return nil
}

// maxKeptRecord bounds the record buffer kept between groups: a large
// search's record is laid out in a buffer of its own.
const maxKeptRecord = 64 << 10

// appendRecord appends one record (layout above) to buf.
func appendRecord(buf []byte, sealed bool, first uint64, values [][]byte) []byte {
	start := len(buf)
	buf = binary.LittleEndian.AppendUint32(buf, journalMagic)
	buf = append(buf, make([]byte, 8)...) // length and CRC, below
	flags := byte(0)
	if sealed {
		flags = journalSealed
	}
	buf = append(buf, flags)
	buf = binary.LittleEndian.AppendUint64(buf, first)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(values)))
	for _, v := range values {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(v)))
		buf = append(buf, v...)
	}
	payload := buf[start+journalHeader:]
	binary.LittleEndian.PutUint32(buf[start+4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+8:], crc32.Checksum(payload, journalCRC))
	return buf
}

// commitDirect commits a group too large for the journal to bbolt, after
// the applier caught up, and starts the journal again at offset 0.
func (l *Ledger) commitDirect(now time.Time, group []*pendingAppend) {
	j := l.j
	if err := l.barrier(context.Background()); err != nil {
		for _, p := range group {
			p.finish(err)
		}
		return
	}
	l.commitToFile(now, group)
	head, hash, _, err := l.fileHead()
	if err != nil {
		_ = j.fail(fmt.Errorf("reading the head after a direct commit: %w", err))
		return
	}
	j.seq, j.hash, j.off = head, hash, 0
	j.mu.Lock()
	j.journaled, j.applied = head, head
	j.mu.Unlock()
}

// applyLoop stores queued records in bbolt, all that queued meanwhile in
// one transaction, until none is left.
func (l *Ledger) applyLoop() {
	j := l.j
	for {
		// Gather: fewer, larger bbolt commits leave the disk to the
		// journal's fdatasyncs. A reader (barrier) cuts the wait short.
		if l.applyDelay > 0 {
			t := time.NewTimer(l.applyDelay)
			select {
			case <-t.C:
			case <-j.kick:
				t.Stop()
			}
		}
		j.mu.Lock()
		q := j.queue
		j.queue = nil
		if len(q) == 0 || j.err != nil {
			j.applying = false
			j.mu.Unlock()
			return
		}
		j.mu.Unlock()
		var err error
		if l.beforeApply != nil {
			err = l.beforeApply()
		}
		if err == nil {
			err = l.applyGroups(l.codec, q)
		}
		j.mu.Lock()
		if err != nil {
			j.err = fmt.Errorf("audit: storing journaled entries in the database failed, so the ledger refuses appends and reads until reopened (which applies the journal): %w", err)
		} else {
			last := q[len(q)-1].entries
			j.applied = last[len(last)-1].Seq
		}
		close(j.changed)
		j.changed = make(chan struct{})
		j.mu.Unlock()
	}
}

// applyGroups stores linked entries in one transaction, with the head and
// the deferred index keys, as appendBatches does; each entry must continue
// the file's chain.
func (l *Ledger) applyGroups(c codec, groups []applyGroup) error {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	var fresh []waitingKeys
	indexedAll := false
	err := l.db.Update(func(tx *bbolt.Tx) error {
		fresh, indexedAll = fresh[:0], false
		b, err := bucketsOf(tx, c)
		if err != nil {
			return err
		}
		b.entries.FillPercent = 1
		_, indexed, err := b.headAndMark()
		if err != nil {
			return err
		}
		seq, hash, err := b.readHead()
		if err != nil {
			return err
		}
		for _, g := range groups {
			for i := range g.entries {
				e := &g.entries[i]
				if e.Seq != seq+1 || e.PrevHash != hash {
					return fmt.Errorf("journaled seq %d does not continue the ledger file (head %d)", e.Seq, seq)
				}
				v, err := c.underActiveKey(e.Seq, g.values[i])
				if err != nil {
					return fmt.Errorf("storing seq %d: %w", e.Seq, err)
				}
				if err := b.entries.Put(seqKey(e.Seq), v); err != nil {
					return fmt.Errorf("storing seq %d: %w", e.Seq, err)
				}
				fresh = append(fresh, keysOf(c, e))
				seq, hash = e.Seq, e.Hash
			}
		}
		if err := b.writeHead(seq, hash); err != nil {
			return err
		}
		known := append(slices.Clip(l.w.waiting), fresh...)
		indexedAll, err = settleIndex(b, indexed, seq, known, l.indexEvery)
		return err
	})
	if err != nil {
		return err
	}
	for _, g := range groups {
		l.recent.committed(g.entries)
	}
	if indexedAll {
		l.w.waiting = nil
	} else {
		l.w.waiting = append(l.w.waiting, fresh...)
	}
	return nil
}

// underActiveKey returns the stored value v of seq sealed under the
// sealer's active key: a key rotation that started after v was journaled
// (and may have passed its place already) leaves nothing under the old key.
// It runs inside the applying transaction, which a rotation's own
// transactions follow or precede as a whole.
func (c codec) underActiveKey(seq uint64, v []byte) ([]byte, error) {
	if !c.sealed() {
		return v, nil
	}
	if id, ok := seal.KeyID(v); !ok || id == c.s.Keyring().Active() {
		return v, nil
	}
	plain, err := c.s.Open(entriesName, seqKey(seq), v)
	if err != nil {
		return nil, err
	}
	return c.s.Seal(entriesName, seqKey(seq), plain), nil
}

// failed returns the sticky error, if any.
func (j *journal) failed() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed && j.err == nil {
		return errors.New("audit: the ledger is closed")
	}
	return j.err
}

// fail records err as sticky and returns it.
func (j *journal) fail(err error) error {
	err = fmt.Errorf("audit: %w; the ledger refuses appends and reads until reopened", err)
	j.mu.Lock()
	if j.err == nil {
		j.err = err
		close(j.changed)
		j.changed = make(chan struct{})
	}
	j.mu.Unlock()
	return err
}

// barrier waits until every entry journaled before it was called is in
// bbolt. Every read of the ledger calls it first.
func (l *Ledger) barrier(ctx context.Context) error {
	j := l.j
	if j == nil {
		return nil
	}
	j.mu.Lock()
	target := j.journaled
	for j.applied < target && j.err == nil {
		ch := j.changed
		j.mu.Unlock()
		select {
		case j.kick <- struct{}{}:
		default: // already kicked
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		j.mu.Lock()
	}
	err := j.err
	j.mu.Unlock()
	return err
}

// view is db.View after the barrier.
func (l *Ledger) view(ctx context.Context, fn func(*bbolt.Tx) error) (err error) {
	if err := l.barrier(ctx); err != nil {
		return err
	}
	// bbolt panics on a page that does not say what it should be (a damaged
	// file); View has rolled its transaction back by the time this runs.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDamaged, r)
		}
	}()
	return l.db.View(fn)
}

// ErrDamaged: bbolt found a page of the database file that is not what the
// file's own structure says it is (a flipped byte, a torn copy). Nothing
// read from such a file can be trusted; Verify reports it as a broken chain.
var ErrDamaged = errors.New("audit: the database file is damaged")

// Err reports whether the ledger has stopped taking appends (a journal
// write or an apply failed); nil when it works. Readiness checks call it.
func (l *Ledger) Err() error {
	if l.j == nil {
		return nil
	}
	return l.j.failed()
}

// Close waits until every journaled entry is in bbolt and writes the index
// keys still waiting, then closes the journal; appends fail afterwards. It
// does not close the database. A ledger not closed (a crash) is recovered
// by the next Open.
func (l *Ledger) Close() error {
	if l.j == nil {
		return l.IndexPending(context.Background())
	}
	journals.Lock()
	defer journals.Unlock()
	if journals.m[l.j.path] == l {
		delete(journals.m, l.j.path)
	}
	return l.retire()
}

// retire stops appends once no commit is under way, waits for the applier,
// indexes and closes the journal.
func (l *Ledger) retire() error {
	for {
		l.gc.mu.Lock()
		if !l.gc.busy {
			l.j.mu.Lock()
			already := l.j.closed
			l.j.closed = true
			l.j.mu.Unlock()
			l.gc.mu.Unlock()
			if already {
				return nil
			}
			break
		}
		l.gc.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	err := l.IndexPending(context.Background())
	return errors.Join(err, l.j.f.Close())
}

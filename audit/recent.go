package audit

import (
	"sync"
	"unicode/utf8"
)

// recent holds the entries of the latest commits, as they were stored, so
// that tailing readers that keep up (the console's chart counters, the SIEM
// export; EntriesAfter) get them without reading them back from the file,
// opening their seal and decoding their JSON: under read load that was
// about 5 % of the proxy's CPU per reader.
//
// It holds one run of consecutive seqs ending at the latest commit. A
// commit appends its entries to the run, or starts a new run when its
// first seq does not follow on; an entry that a decode would not give back
// exactly (a string that is not valid UTF-8, which JSON encoding replaces)
// empties it, so readers go to the file for what came before. The run is
// bounded by entries and by items, so a few large searches cannot hold
// much memory; the oldest entries leave first. A nil *recent holds
// nothing.
type recent struct {
	mu      sync.Mutex
	entries []Entry // consecutive seqs, oldest first; a window into buf
	buf     []Entry // the array entries slides along (makeRoom)
	items   int     // items of entries, bounded by maxItems
	// maxEntries and maxItems bound the run (tests shrink them).
	maxEntries, maxItems int
}

// Default bounds of recent: a reader that falls further behind reads the
// file. The console polls four times a second, so 4,096 entries keep up
// with it at ~16,000 reads/s and 65,536 items with ~260 1,000-entry
// searches a second (two cores serve ~120 at c=1 and ~170 at c=8; with
// 32,768 items and a poll each second the console missed them and read
// the file). The SIEM export, when configured, polls once a second by
// default (siem.DefaultInterval): it keeps up with ~65 such searches a
// second. Memory: about 0.4 KB per entry and 0.15 KB per item, ~11 MB at
// most.
const (
	recentEntries = 4096
	recentItems   = 1 << 16
)

func newRecent() *recent {
	return &recent{maxEntries: recentEntries, maxItems: recentItems}
}

// committed adds the linked entries of a commit (consecutive seqs).
func (r *recent) committed(batch []Entry) {
	if r == nil || len(batch) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.entries); n > 0 && r.entries[n-1].Seq+1 != batch[0].Seq {
		r.clearLocked()
	}
	for i := range batch {
		e := &batch[i]
		size := itemCount(e)
		if size > r.maxItems || !faithful(e) {
			r.clearLocked()
			continue
		}
		if len(r.entries) > 0 && r.entries[len(r.entries)-1].Seq+1 != e.Seq {
			r.clearLocked() // the entry before this one was left out
		}
		if len(r.entries) == cap(r.entries) {
			r.makeRoom()
		}
		r.entries = append(r.entries, *e)
		r.items += size
		r.trimLocked()
	}
}

// after returns up to limit entries with Seq > seq, and whether the run
// answers for that range: false when seq+1 is before the run's first
// entry (or the run is empty), and the caller must read the file.
func (r *recent) after(seq uint64, limit int) ([]Entry, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.entries) == 0 || seq+1 < r.entries[0].Seq {
		return nil, false
	}
	last := r.entries[len(r.entries)-1].Seq
	if seq >= last {
		return []Entry{}, true
	}
	from := int(seq + 1 - r.entries[0].Seq)
	to := min(len(r.entries), from+limit)
	return append([]Entry(nil), r.entries[from:to]...), true
}

// forgetThrough drops the entries with Seq <= seq (pruned from the file).
func (r *recent) forgetThrough(seq uint64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := 0
	for i < len(r.entries) && r.entries[i].Seq <= seq {
		r.items -= itemCount(&r.entries[i])
		i++
	}
	clear(r.entries[:i]) // let their lists go
	r.entries = r.entries[i:]
}

func (r *recent) clearLocked() {
	clear(r.entries)
	r.entries, r.items = r.entries[:0], 0
}

// trimLocked drops the oldest entries beyond the bounds.
func (r *recent) trimLocked() {
	for len(r.entries) > r.maxEntries || r.items > r.maxItems {
		r.items -= itemCount(&r.entries[0])
		r.entries[0] = Entry{} // let its lists go
		r.entries = r.entries[1:]
	}
}

// makeRoom gives entries, which has no room left at its end, room for at
// least as many entries again. The window slides along buf as entries are
// added and trimmed; at buf's end it moves back to buf's start, so a
// full run costs no allocation per commit, only the copy of one entry per
// entry added, amortised. (Letting append grow the window allocated and
// copied the whole run, ~1.6 MB, every ~1,000 reads: ~1.5 KB allocated
// per read.) buf is reallocated, at twice the run, only when it is too
// small for that or more than four times larger than needed (the run
// shrank, e.g. to a few large searches under maxItems).
func (r *recent) makeRoom() {
	n := len(r.entries)
	want := max(2*n, 16)
	if len(r.buf) < want || len(r.buf) > 4*want {
		buf := make([]Entry, want)
		copy(buf, r.entries)
		r.buf, r.entries = buf, buf[:n]
		return
	}
	// entries ends at buf's end (or is another array), so it starts at
	// least n entries into buf: the copy does not overlap.
	copy(r.buf, r.entries)
	clear(r.buf[n:]) // the entries' old places: let their lists go
	r.entries = r.buf[:n]
}

func itemCount(e *Entry) int {
	return 1 + len(e.Disclosed) + len(e.Withheld) + len(e.Redacted) + len(e.Consents)
}

// faithful reports whether decoding e's stored JSON gives e back: every
// string valid UTF-8 (json.Marshal replaces invalid bytes with U+FFFD).
// Times are in UTC without a monotonic reading and lists are non-nil
// (canonical), and the other fields are numbers.
func faithful(e *Entry) bool {
	ok := utf8.ValidString
	if !ok(e.RequestID) || !ok(e.Caller.Subject) || !ok(e.Caller.Org) || !ok(e.Caller.Client) ||
		!ok(e.Caller.Name) || !ok(e.Caller.Address) || !ok(e.Patient) || !ok(e.Interaction) ||
		!ok(e.Query) || !ok(e.PolicyRevision) || !ok(e.RulesRevision) || !ok(e.Alert) || !ok(e.PrevHash) || !ok(e.Hash) {
		return false
	}
	for _, p := range e.Purposes {
		if !ok(p) {
			return false
		}
	}
	for _, list := range [][]Item{e.Disclosed, e.Withheld, e.Redacted} {
		for _, it := range list {
			if !ok(it.Type) || !ok(it.ID) || !ok(it.Version) {
				return false
			}
			for _, l := range it.Labels {
				if !ok(l) {
					return false
				}
			}
			for _, r := range it.Reasons {
				if !ok(r) {
					return false
				}
			}
		}
	}
	for _, c := range e.Consents {
		if !ok(c.ID) || !ok(c.Version) {
			return false
		}
	}
	if bg := e.BreakGlass; bg != nil && (!ok(bg.Reason) || !ok(bg.Recipient) || !ok(bg.Affiliation) || !ok(bg.DisclosedBy)) {
		return false
	}
	return true
}

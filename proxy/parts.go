package proxy

import (
	"bytes"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ds4p/ds4p/internal/fjson"
)

// Walking a large searchset in parts, on several goroutines.
//
// The checked walk (collectChecked) reads a body once, checking its JSON
// and labelling each resource where it finds it. On a 1,000-entry Bundle
// that is most of the pipeline's time, and one request walks it on one
// core: at low concurrency the other cores wait. So the entries of a large
// top-level Bundle are walked in parts. The walk cannot know where an
// entry starts without walking everything before it, so each part after
// the first starts at a guess: the first object after a point of the body
// that follows a comma and opens with a member a Bundle entry has
// ("fullUrl", "resource", ...). A helper goroutine walks entries from the
// guess, each exactly as the walk would (collectEntry on a run of its own,
// with its own checker and label batch, at the same depth), while the walk
// goes on from the start.
//
// The guess is trusted for nothing. The walk itself still walks the
// entries array from start to end and checks every byte between entries;
// it takes a helper's entry only when that entry starts exactly where the
// walk finds the array's next element, and the helper walked it with the
// same code, over the same bytes, at the same depth and limits, so the
// entry, its items and their labels are what the walk would have made.
// (A guess cannot land inside a string of valid JSON, where a quote after
// the brace would be escaped.) A guess that lands inside a nested Bundle
// or a resource (an array of objects opening with "id" or "extension") is
// never an element start the walk reaches: that part is dropped and the
// walk labels those entries itself. A helper stops at the first entry it
// cannot walk; the walk then reaches that entry itself and fails exactly
// as it would have (collectLabelled falls back to the validating path).
// Items and labels are adopted in document order, so what follows (label
// propagation, decisions, the ledger, the rendering) sees the same run.
//
// When the walk reaches a part whose helper has not started (every core
// busy), it claims the part and walks it itself: under load, parts cost
// nothing but the guess. collectEntries waits for every helper before it
// returns, so none reads the body after the response is done with it.

// walkParts says which bodies are walked in parts: at least minBody bytes,
// at least minPart bytes per part, at most max parts, and with perCore no
// more than GOMAXPROCS. A part's helper goroutine and its own label batch cost a
// few microseconds, nothing next to the ~1 ms a 128 KiB part takes to
// walk.
type walkParts struct {
	minBody, minPart, max int
	perCore               bool
	// claim: the walk walks a part itself when its helper has not
	// started (tests turn it off to count what helpers did).
	claim bool
	// helperHook, when set (tests), runs before a helper walks the entry
	// at the index it is given.
	helperHook func(int)
}

// defaultWalkParts is what New gives a Server.
var defaultWalkParts = walkParts{minBody: 256 << 10, minPart: 128 << 10, max: 4, perCore: true, claim: true}

// partsGuessWindow bounds how far from its point a part's start is
// searched for: a guess that finds nothing there is not made.
const partsGuessWindow = 64 << 10

// DS4P_TEST_WALK_PARTS=1, read by the package's tests, walks every
// searchset of two or more entries in parts, up to four (make test runs
// the package once that way).
func init() {
	if os.Getenv("DS4P_TEST_WALK_PARTS") == "1" {
		defaultWalkParts = walkParts{minBody: 2, minPart: 1, max: 4, claim: true}
	}
}

// partEntries counts the entries the walk took from helpers, and
// partsMissed the parts whose start the walk passed without meeting it
// (tests read them).
var partEntries, partsMissed atomic.Int64

// part is the entries one helper walks, from start up to limit.
type part struct {
	start, limit int
	w            *run
	state        atomic.Int32 // partIdle, partHelped or partClaimed
	done         chan struct{}
	entries      []*entryNode
	itemEnd      []int // per entry: len(w.items) after it
	outEnd       []int // per entry: w.batch.Len() after it
	next         int   // entries taken by the walk
	taking       bool
}

const (
	partIdle = iota
	partHelped
	partClaimed
)

// parts are the helpers of one entries array.
type parts struct {
	list []*part
	cur  int // the part the walk takes entries from, or reaches next
	stop atomic.Bool
	wg   sync.WaitGroup
}

// startParts starts the helpers for the entries array at arr of the
// top-level Bundle, or returns nil when the body is walked in one piece.
// jd is the depth of the array's elements' container, as the walk will
// hold it (run.jd) while it walks an entry.
func (r *run) startParts(arr, jd int) *parts {
	wp := r.s.walkParts
	if len(r.body) < wp.minBody || wp.minPart <= 0 {
		return nil
	}
	n := min(wp.max, (len(r.body)-arr)/wp.minPart)
	if wp.perCore {
		n = min(n, runtime.GOMAXPROCS(0))
	}
	if n < 2 {
		return nil
	}
	ps := &parts{}
	prev := arr
	for i := 1; i < n; i++ {
		at := arr + (len(r.body)-arr)*i/n
		start := entryStartNear(r.body, max(at, prev+1))
		if start < 0 {
			continue
		}
		ps.list = append(ps.list, &part{start: start, done: make(chan struct{})})
		prev = start
	}
	if len(ps.list) == 0 {
		return nil
	}
	for i, p := range ps.list {
		p.limit = len(r.body)
		if i+1 < len(ps.list) {
			p.limit = ps.list[i+1].start
		}
		p.w = &run{s: r.s, ex: r.ex, body: r.body, checked: true, batch: r.s.labeller.NewBatch(), jd: jd, bundleAt: r.bundleAt}
		p.w.check.Reset(r.body, r.s.opts.MaxJSONDepth)
		ps.wg.Add(1)
		go p.help(ps)
	}
	return ps
}

// help walks the part's entries unless the walk claimed it first. A panic
// (a labeller bug some body triggers) ends the part where it happened: the
// walk reaches that entry itself, on the request's goroutine, whose panic
// the server recovers into a withheld response, instead of a helper's
// taking the process down.
func (p *part) help(ps *parts) {
	defer ps.wg.Done()
	defer close(p.done)
	defer func() { _ = recover() }()
	if !p.state.CompareAndSwap(partIdle, partHelped) {
		return
	}
	body := p.w.body
	for i := p.start; !ps.stop.Load(); {
		if h := p.w.s.walkParts.helperHook; h != nil {
			h(i)
		}
		e, err := p.w.collectEntry(i, 0)
		if err != nil {
			return // the walk reaches this entry itself, and fails as it would
		}
		p.entries = append(p.entries, e)
		p.itemEnd = append(p.itemEnd, len(p.w.items))
		p.outEnd = append(p.outEnd, p.w.batch.Len())
		j := fjson.SkipSpace(body, e.end)
		if j >= len(body) || body[j] != ',' {
			return // the array's end, or bytes the walk will refuse
		}
		if i = fjson.SkipSpace(body, j+1); i >= p.limit {
			return
		}
	}
}

// take returns the helpers' entry that starts at vs, the start of the
// entries array's next element as the walk found it, after adopting its
// items and labels into r; false: the walk walks it itself.
func (ps *parts) take(r *run, vs int) (*entryNode, bool) {
	for ps.cur < len(ps.list) {
		p := ps.list[ps.cur]
		if !p.taking {
			if vs < p.start {
				return nil, false // before this part: the walk's own
			}
			if vs > p.start {
				partsMissed.Add(1)
			}
			if vs > p.start || r.s.walkParts.claim && p.state.CompareAndSwap(partIdle, partClaimed) {
				// Passed without meeting its start (the guess was no
				// element of this array), or not started (the cores are
				// busy): the walk walks this part itself.
				ps.cur++
				continue
			}
			<-p.done
			p.taking = true
		}
		if p.next < len(p.entries) && p.entries[p.next].start == vs {
			e := p.entries[p.next]
			fromItem, fromOut := 0, 0
			if p.next > 0 {
				fromItem, fromOut = p.itemEnd[p.next-1], p.outEnd[p.next-1]
			}
			r.items = append(r.items, p.w.items[fromItem:p.itemEnd[p.next]]...)
			r.batch.Adopt(p.w.batch, fromOut, p.outEnd[p.next])
			p.next++
			partEntries.Add(1)
			return e, true
		}
		ps.cur++ // the part is taken, or its helper stopped before vs
	}
	return nil, false
}

// finish stops the helpers and waits for them.
func (ps *parts) finish() {
	ps.stop.Store(true)
	for _, p := range ps.list {
		p.state.CompareAndSwap(partIdle, partClaimed)
	}
	ps.wg.Wait()
}

// entryMembers are the members a Bundle entry may open with.
var entryMembers = [][]byte{[]byte(`"fullUrl"`), []byte(`"resource"`), []byte(`"search"`), []byte(`"request"`),
	[]byte(`"response"`), []byte(`"link"`), []byte(`"id"`), []byte(`"extension"`), []byte(`"modifierExtension"`)}

// entryStartNear is the first '{' at or after from, within
// partsGuessWindow, that follows a comma (whitespace between) and opens
// with a member a Bundle entry may have; -1 when there is none. It is a
// guess (see the top of this file).
func entryStartNear(b []byte, from int) int {
	end := min(len(b), from+partsGuessWindow)
	for i := from; i < end; {
		k := bytes.IndexByte(b[i:end], '{')
		if k < 0 {
			return -1
		}
		i += k
		p := i - 1
		for p >= 0 && isSpace(b[p]) {
			p--
		}
		if p >= 0 && b[p] == ',' {
			q := fjson.SkipSpace(b, i+1)
			for _, m := range entryMembers {
				if bytes.HasPrefix(b[q:], m) {
					return i
				}
			}
		}
		i++
	}
	return -1
}

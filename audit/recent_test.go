package audit

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

// fromFile is EntriesAfter read from the file alone: the same ledger
// without its recent entries.
func fromFile(t *testing.T, l *Ledger, seq uint64, limit int) []Entry {
	t.Helper()
	file := &Ledger{db: l.db, codec: l.codec, now: l.now, verifyChunk: l.verifyChunk, indexEvery: l.indexEvery}
	out, err := file.EntriesAfter(t.Context(), seq, limit)
	if err != nil {
		t.Fatalf("EntriesAfter(%d) from the file: %v", seq, err)
	}
	return out
}

// assertTailMatchesFile checks EntriesAfter against the file for every
// starting seq and a few limits.
func assertTailMatchesFile(t *testing.T, l *Ledger) {
	t.Helper()
	head, _, err := l.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(0); seq <= head+1; seq++ {
		for _, limit := range []int{1, 3, 1000} {
			got, err := l.EntriesAfter(t.Context(), seq, limit)
			if err != nil {
				t.Fatalf("EntriesAfter(%d, %d): %v", seq, limit, err)
			}
			if want := fromFile(t, l, seq, limit); !reflect.DeepEqual(got, want) {
				t.Fatalf("EntriesAfter(%d, %d) differs from the file:\n got %+v\nwant %+v", seq, limit, got, want)
			}
		}
	}
}

// variedEntry is entry i with the shapes entries take: break-glass, an
// alert, names, no patient, no items, many items.
func variedEntry(i int) Entry {
	e := sample(i, fmt.Sprintf("Patient/p%d", i%4))
	switch i % 6 {
	case 1:
		e.BreakGlass = &BreakGlass{Reason: "overdose <unresponsive> & bleeding", Recipient: "Dr Ö", DisclosedBy: "ds4p"}
	case 2:
		e.Alert = "bulk-7"
		e.Caller.Name, e.Caller.Address = "Riverside Recovery", "1 Main St"
		e.Withheld = []Item{{Type: "Condition", ID: "sud", Version: "2", Labels: []string{"a|b"}, Reasons: []string{"part2.no_consent"}}}
	case 3:
		e.Patient, e.Disclosed, e.Withheld, e.Consents, e.Purposes = "", nil, nil, nil, nil
	case 4:
		for j := range 50 {
			e.Disclosed = append(e.Disclosed, Item{Type: "Observation", ID: fmt.Sprintf("o%d-%d", i, j), Version: "1"})
		}
		e.Redacted = []Item{{Type: "Patient", ID: "p", Labels: []string{"a|b", "c|d"}}}
	case 5:
		e.Time = time.Time{} // stamped by Append
		e.Query = "/Observation?code=http://loinc.org|1234-5&_elements=\"x\"\t\u2028"
	}
	return e
}

func TestRecentMatchesFile(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	for i := 1; i <= 12; i++ { // one entry per commit
		if err := l.Append(t.Context(), variedEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Several entries per commit, and commits grouped under concurrency.
	if err := l.Append(t.Context(), variedEntry(13), variedEntry(14), variedEntry(15)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 5 {
				if err := l.Append(t.Context(), variedEntry(100+10*g+i), variedEntry(200+10*g+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	settle(t, l)
	if _, ok := l.recent.after(0, 1); !ok {
		t.Fatal("the recent entries do not start at seq 1")
	}
	assertTailMatchesFile(t, l)
}

func TestRecentMatchesSealedFile(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	l, err := Open(db, WithSealer(openSealer(t, db, testKey(t, true))))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 9; i++ {
		if err := l.Append(t.Context(), phiEntry(i), variedEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	assertTailMatchesFile(t, l)
}

// An entry with invalid UTF-8 is recorded with each bad byte as U+FFFD
// (canonical, as its stored JSON reads back), so the in-memory run still
// answers for it, as the file holds it. faithful stays the guard for an
// entry that JSON would not give back.
func TestRecentSkipsWhatTheFileChanges(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 3)
	bad := sample(4, "Patient/a")
	bad.Query = "/Condition?code=\xff\xfe"
	if err := l.Append(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	appendSamples(t, l, 2) // seq 5 and 6
	settle(t, l)
	if got, ok := l.recent.after(3, 10); !ok || len(got) != 3 || got[0].Query != "/Condition?code=\ufffd\ufffd" {
		t.Fatalf("recent after seq 3 = %v, %v; want seq 4 as stored, 5 and 6", seqs(got), ok)
	}
	got, err := l.EntriesAfter(t.Context(), 3, 1)
	if err != nil || len(got) != 1 || got[0].Query != "/Condition?code=\ufffd\ufffd" {
		t.Fatalf("EntriesAfter(3) = %+v, %v; want seq 4 as stored", got, err)
	}
	if bad := (Entry{Query: "\xff"}); faithful(&bad) {
		t.Fatal("faithful takes an entry with invalid UTF-8")
	}
	assertTailMatchesFile(t, l)
}

func TestRecentBounds(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	l.recent.maxEntries, l.recent.maxItems = 4, 1000
	appendSamples(t, l, 10)
	if _, ok := l.recent.after(5, 10); ok {
		t.Fatal("recent holds more than 4 entries")
	}
	if got, ok := l.recent.after(6, 10); !ok || !reflect.DeepEqual(seqs(got), []uint64{7, 8, 9, 10}) {
		t.Fatalf("recent after 6 = %v, %v; want 7..10", seqs(got), ok)
	}
	// An entry with more items than the bound empties it.
	big := sample(11, "Patient/a")
	for j := range 1000 {
		big.Disclosed = append(big.Disclosed, Item{Type: "Observation", ID: fmt.Sprint(j), Version: "1"})
	}
	if err := l.Append(t.Context(), big); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if _, ok := l.recent.after(10, 10); ok {
		t.Fatal("recent kept running past an entry larger than its bound")
	}
	appendSamples(t, l, 1) // seq 12
	if l.recent.items > l.recent.maxItems {
		t.Fatalf("recent holds %d items, bound %d", l.recent.items, l.recent.maxItems)
	}
	assertTailMatchesFile(t, l)
}

// TestRecentKeepsUpWithLargeSearches: at the default bounds, a quarter
// second of 1,000-item searches at 180 a second (two cores serve ~120 at
// c=1 and ~170 at c=8) stays in memory for the console's next refresh.
func TestRecentKeepsUpWithLargeSearches(t *testing.T) {
	t.Parallel()
	r := newRecent()
	const searches = 45 // 180/s for 250 ms
	for i := range uint64(2 * searches) {
		e := sample(int(i), "Patient/a")
		e.Seq = i + 1
		e.Disclosed = make([]Item, 1000)
		for j := range e.Disclosed {
			e.Disclosed[j] = Item{Type: "Observation", ID: fmt.Sprint(j), Version: "1"}
		}
		r.committed([]Entry{e})
	}
	got, ok := r.after(searches, MaxLimit)
	if !ok || len(got) != searches {
		t.Fatalf("recent answers for the last %d searches: %v, with %d entries", searches, ok, len(got))
	}
}

func TestRecentForgetsPruned(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendSamples(t, l, 10)
	if _, err := l.Prune(t.Context(), t0.Add(6*time.Minute), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	got, err := l.EntriesAfter(t.Context(), 0, 100)
	if err != nil || !reflect.DeepEqual(seqs(got), []uint64{6, 7, 8, 9, 10}) {
		t.Fatalf("EntriesAfter(0) after pruning 1..5 = %v, %v", seqs(got), err)
	}
	assertTailMatchesFile(t, l)
}

// TestFaithfulCoversEveryString puts invalid UTF-8 into each string of an
// entry in turn, found by reflection, so a string field added to Entry
// later must be checked too.
func TestFaithfulCoversEveryString(t *testing.T) {
	t.Parallel()
	full := variedEntry(1) // break-glass
	full.Alert, full.Caller.Name, full.Caller.Address = "a", "n", "addr"
	full.Redacted = []Item{{Type: "T", ID: "i", Version: "v", Labels: []string{"l"}}}
	full.Hash, full.PrevHash = "h", "p"
	if !faithful(&full) {
		t.Fatal("a valid entry is not faithful")
	}
	var paths []string
	var walk func(v reflect.Value, path string, visit func(reflect.Value, string))
	walk = func(v reflect.Value, path string, visit func(reflect.Value, string)) {
		switch v.Kind() {
		case reflect.String:
			visit(v, path)
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i), path+"."+v.Type().Field(i).Name, visit)
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), visit)
			}
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path, visit)
			}
		}
	}
	walk(reflect.ValueOf(&full).Elem(), "Entry", func(_ reflect.Value, p string) { paths = append(paths, p) })
	if len(paths) < 25 {
		t.Fatalf("found only %d strings: %v", len(paths), paths)
	}
	for _, target := range paths {
		e := deepCopy(full)
		walk(reflect.ValueOf(&e).Elem(), "Entry", func(v reflect.Value, p string) {
			if p == target {
				v.SetString("x\xff")
			}
		})
		if faithful(&e) {
			t.Errorf("invalid UTF-8 in %s is not caught", target)
		}
	}
}

func deepCopy(e Entry) Entry {
	e = canonical(e) // copies the lists and BreakGlass
	for _, list := range [][]Item{e.Disclosed, e.Withheld, e.Redacted} {
		for i := range list {
			list[i].Labels = append([]string(nil), list[i].Labels...)
		}
	}
	return e
}

// FuzzRecent drives recent with commits (some after a gap, some holding an
// entry JSON would change or one over the item bound), pruning and reads,
// against a model of the file: whenever recent answers, its answer must be
// exactly the file's entries after the seq, up to the limit.
func FuzzRecent(f *testing.F) {
	f.Add([]byte{0, 1, 4, 0, 2, 3, 9, 4, 0, 0, 1, 3, 4, 2})
	f.Add([]byte{0, 3, 0, 3, 0, 3, 4, 1, 6, 3, 2, 4, 0, 5, 0, 7, 0, 1, 4, 6})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := &recent{maxEntries: 5, maxItems: 12}
		file := map[uint64]Entry{}
		var head, pruned uint64
		entry := func(seq uint64, items int, bad bool) Entry {
			e := Entry{Seq: seq, Query: fmt.Sprint(seq), Purposes: []string{}}
			for j := range items {
				e.Disclosed = append(e.Disclosed, Item{ID: fmt.Sprint(j), Labels: []string{}})
			}
			if bad {
				e.Query = "\xff"
			}
			return e
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%5, int(ops[i+1])
			switch op {
			case 0, 1, 2: // a commit of 1-3 entries; 1: after a gap; 2: with an odd entry
				if op == 1 {
					head++
					file[head] = entry(head, 1, false) // durable, but its commit reported an error
				}
				var batch []Entry
				for j := range arg%3 + 1 {
					head++
					e := entry(head, arg%4, op == 2 && j == 1 && arg%2 == 0)
					if op == 2 && j == 1 && arg%2 == 1 {
						e = entry(head, 20, false) // over maxItems
					}
					file[head] = e
					batch = append(batch, e)
				}
				r.committed(batch)
			case 3: // pruning through some seq
				if head > 0 {
					p := uint64(arg) % (head + 1)
					for s := pruned + 1; s <= p; s++ {
						delete(file, s)
					}
					pruned = max(pruned, p)
					r.forgetThrough(p)
				}
			case 4: // a read
				seq, limit := uint64(arg)%(head+2), arg%4+1
				got, ok := r.after(seq, limit)
				if !ok {
					continue
				}
				var want []Entry
				for s := seq + 1; s <= head && len(want) < limit; s++ {
					if e, in := file[s]; in {
						want = append(want, e)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("after(%d, %d) = %v; the file has %v", seq, limit, seqs(got), seqs(want))
				}
				for k := range got {
					if !faithful(&got[k]) || !reflect.DeepEqual(got[k], want[k]) {
						t.Fatalf("after(%d, %d)[%d] = %+v; the file has %+v", seq, limit, k, got[k], want[k])
					}
				}
			}
			if len(r.entries) > r.maxEntries || r.items > r.maxItems {
				t.Fatalf("recent holds %d entries, %d items", len(r.entries), r.items)
			}
		}
	})
}

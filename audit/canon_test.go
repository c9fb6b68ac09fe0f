package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"math/bits"
	"strings"
	"testing"
	"time"
)

// trickyStrings exercise every branch of encoding/json's string encoding.
var trickyStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "\b\f\n\r\t", "\x00\x01\x1f\x7f",
	"\u2028\u2029", "é ö 漢字 🙂", "\xff\xfe", "a\xc3", "\xed\xa0\x80", "end\\",
}

func assertEntryJSON(t *testing.T, e Entry) {
	t.Helper()
	want, err := json.Marshal(&e)
	got, ok := appendEntryJSON(nil, &e)
	if err != nil {
		if ok {
			t.Fatalf("Marshal failed (%v) where appendEntryJSON did not:\n%s", err, got)
		}
		return
	}
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("appendEntryJSON (ok %v) differs from Marshal:\n got %s\nwant %s", ok, got, want)
	}
}

func TestEntryJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		assertEntryJSON(t, variedEntry(i))
		assertEntryJSON(t, canonical(variedEntry(i)))
		assertEntryJSON(t, phiEntry(i))
	}
	assertEntryJSON(t, Entry{}) // every list nil, zero time
	for _, s := range trickyStrings {
		e := variedEntry(1)
		e.RequestID, e.Caller.Name, e.Query, e.Alert, e.Hash = s, s, s, s, s
		e.Purposes = []string{s, s}
		e.Disclosed = []Item{{Type: s, ID: s, Version: s, Labels: []string{s}}, {}}
		e.Consents = []ConsentRef{{ID: s, Version: s}}
		e.BreakGlass.Reason, e.BreakGlass.DisclosedBy = s, s
		assertEntryJSON(t, e)
		e.Caller.PatientUser = true
		assertEntryJSON(t, e)
		e.RulesRevision = s
		assertEntryJSON(t, e)
	}
	e := sample(1, "Patient/a")
	e.Time = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.FixedZone("x", -5*3600))
	assertEntryJSON(t, e)
	e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // Marshal refuses it
	assertEntryJSON(t, e)
	if _, err := link(&e, nil); err == nil || !strings.Contains(err.Error(), "year") {
		t.Fatalf("link of a year-10000 entry = %v; want Marshal's error", err)
	}
}

func FuzzEntryJSON(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s, s, uint64(7), int64(1700000000123456789), uint8(0xff))
	}
	f.Fuzz(func(t *testing.T, a, b string, seq uint64, ns int64, shape uint8) {
		e := Entry{
			Seq: seq, Time: time.Unix(0, ns).UTC(), RequestID: a, Patient: b, Query: a + b,
			Caller: Party{Subject: a, Org: b, Client: a},
		}
		if shape&1 != 0 {
			e.Purposes = []string{a, b}
			e.Consents = []ConsentRef{{ID: b, Version: a}}
		}
		if shape&2 != 0 {
			e.Disclosed = []Item{{Type: a, ID: b, Version: a, Labels: []string{b, a}}}
			e.Withheld = []Item{}
			if shape&64 != 0 {
				e.Withheld = []Item{{Type: b, ID: a, Labels: []string{a}, Reasons: []string{b, a}}}
			}
		}
		if shape&4 != 0 {
			e.BreakGlass = &BreakGlass{Reason: a, Recipient: b}
		}
		if shape&8 != 0 {
			e.Alert, e.Caller.Name, e.Caller.Address = b, a, b
		}
		if shape&16 != 0 {
			e.Hash, e.PrevHash = a, b
		}
		if shape&128 != 0 {
			e.Caller.PatientUser = true
			e.RulesRevision = a
		}
		if shape&32 != 0 {
			e.Time = e.Time.In(time.FixedZone("", int(ns%(26*3600))))
		}
		assertEntryJSON(t, e)
	})
}

// TestEntryJSONSizeBoundsTheJSON: link's buffer holds an entry whose
// strings need no escape, hash included, without growing, and is not
// much larger (1 %).
func TestEntryJSONSizeBoundsTheJSON(t *testing.T) {
	t.Parallel()
	search := variedEntry(1)
	search.BreakGlass = &BreakGlass{Reason: "overdose", Recipient: "Dr A", Affiliation: "ED", DisclosedBy: "ds4p"}
	search.Consents = []ConsentRef{{ID: "c1", Version: "3"}, {ID: "c2", Version: "1"}}
	for i := range 1000 {
		search.Disclosed = append(search.Disclosed, Item{Type: "Observation", ID: "obs-" + strings.Repeat("7", i%13+1), Version: "1",
			Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"}})
	}
	search.Withheld = search.Disclosed[:10]
	entries := []Entry{search, {}, {Purposes: []string{}, Disclosed: []Item{{}}}}
	for i := range 6 {
		e := variedEntry(i)
		e.Query = "Observation?code=1234-5"   // escapes lengthen the JSON: not bounded
		e.BreakGlass, e.Caller.Name = nil, "" // variedEntry's hold < > & and Ö
		entries = append(entries, e)
	}
	for i, e := range entries {
		e.PrevHash = GenesisHash
		size := entryJSONSize(&e) // as link sees it: no hash yet
		out, err := link(&e, sha256.New)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > size || size-len(out) > 400+len(out)/100 {
			t.Errorf("entry %d: %d bytes of JSON, estimated %d", i, len(out), size)
		}
	}
}

// BenchmarkLink writes and hashes a search's entry of 1,000 items, each
// with three labels, as Append does.
func BenchmarkLink(b *testing.B) {
	e := variedEntry(1)
	e.Disclosed = make([]Item, 1000)
	for i := range e.Disclosed {
		e.Disclosed[i] = Item{Type: "Observation", ID: "obs-" + strings.Repeat("7", i%13+1), Version: "1",
			Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N", "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD", "http://terminology.hl7.org/CodeSystem/v3-ActCode|42CFRPart2"}}
	}
	e.PrevHash = GenesisHash
	b.ReportAllocs()
	for b.Loop() {
		if _, err := link(&e, sha256.New); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEscapeMaskExact: for every byte value in every position of a word of
// plain bytes, escapeMask's lowest set bit marks that byte exactly when
// appendJSONString must look at it, and nothing before it.
func TestEscapeMaskExact(t *testing.T) {
	look := func(b byte) bool {
		return b < 0x20 || b >= 0x80 || b == '"' || b == '\\' || b == '<' || b == '>' || b == '&'
	}
	for pos := range 8 {
		for v := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(v)
			m := escapeMask(load64(string(w), 0))
			first := -1
			if m != 0 {
				first = bits.TrailingZeros64(m) >> 3
			}
			want := -1
			if look(byte(v)) {
				want = pos
			}
			if first != want {
				t.Errorf("byte %#x at %d: first flagged %d, want %d", v, pos, first, want)
			}
		}
	}
}

// TestJSONStringEscapesEverywhere: appendJSONString escapes as
// encoding/json does whatever the position of what needs escaping in a
// long string, across the eight-byte steps.
func TestJSONStringEscapesEverywhere(t *testing.T) {
	specials := []string{`"`, `\`, "<", ">", "&", "\x00", "\x1f", "\n", "\x7f", "é", "\xff", "\u2028", "漢", "🙂", "\xc3"}
	for _, sp := range specials {
		for pos := range 24 {
			for _, n := range []int{pos, pos + 1, pos + 9, 40} {
				plain := strings.Repeat("Observation/obs-1|", 3)[:n]
				s := plain[:min(pos, len(plain))] + sp + plain[min(pos, len(plain)):]
				want, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
					t.Fatalf("%q: %s, want %s", s, got, want)
				}
			}
		}
	}
}

// TestCanonicalItemsCopies: the ledger's copy of an entry's items shares
// nothing with the caller's (which may be reused once Append returns),
// keeps every list non-nil (null and [] differ in the JSON the hash
// covers), and an item's labels cannot grow into the next item's.
func TestCanonicalItemsCopies(t *testing.T) {
	in := []Item{
		{Type: "Observation", ID: "a", Labels: []string{"x|1", "x|2"}},
		{Type: "Observation", ID: "b"}, // nil labels
		{Type: "Condition", ID: "c", Labels: []string{}},
		{Type: "Condition", ID: "d", Labels: []string{"x|3"}},
	}
	out := canonicalItems(in)
	if len(out) != len(in) {
		t.Fatalf("%d items, want %d", len(out), len(in))
	}
	for i := range in {
		if out[i].Labels == nil || out[i].ID != in[i].ID || strings.Join(out[i].Labels, ",") != strings.Join(in[i].Labels, ",") {
			t.Errorf("item %d: %+v from %+v", i, out[i], in[i])
		}
	}
	in[0].Labels[0] = "changed"
	if out[0].Labels[0] != "x|1" {
		t.Error("the copy shares the caller's labels")
	}
	_ = append(out[0].Labels, "x|9")
	if out[1].Labels == nil || len(out[1].Labels) != 0 || out[3].Labels[0] != "x|3" {
		t.Errorf("appending to one item's labels reached the next: %+v", out)
	}
	if empty := canonicalItems([]Item{{ID: "e"}}); empty[0].Labels == nil {
		t.Error("an entry whose items have no labels got nil labels")
	}
	if got, _ := appendEntryJSON(nil, &Entry{Disclosed: canonicalItems([]Item{{Type: "Patient", ID: "p"}})}); !bytes.Contains(got, []byte(`"labels":[]`)) {
		t.Errorf("canonical items without labels encode as %s", got)
	}
}

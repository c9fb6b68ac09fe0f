package proxy

import (
	"bytes"
	"testing"
	"unsafe"
)

// TestEntryAnswerApartQA43C: an entry node kept what its response and
// request members say (status, outcome, request.url, location, etag,
// lastModified) in every entry, 112 of its 240 bytes, which a searchset's
// entries never fill: a 1,000-entry search allocated 112 KB for them.
// They are apart (entryNode.ans), made only for an entry that has those
// members, and read as before.
func TestEntryAnswerApartQA43C(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) == 8 {
		if n := unsafe.Sizeof(entryNode{}); n > 128 {
			t.Errorf("an entry node is %d bytes, want at most 128", n)
		}
	}
	body := []byte(`{"search":{"mode":"include"},` +
		`"response":{"status":"201 Created","location":"Patient/p1/_history/1","etag":"W/\"1\"","lastModified":"2024-01-01T00:00:00Z"},` +
		`"request":{"url":"Patient/p1?x=1"}}`)
	r := &run{body: body}
	at := func(member string) span {
		i := bytes.Index(body, []byte(`"`+member+`":`)) + len(member) + 3
		return span{i, -1}
	}

	// A searchset's entry: search alone, no answer made.
	e := &entryNode{parts: noParts}
	e.parts[partSearch] = at("search")
	r.entryParts(e)
	if !e.notMatch || e.partsErr != nil {
		t.Errorf("search.mode include: notMatch %v, err %v", e.notMatch, e.partsErr)
	}
	if e.ans != nil {
		t.Errorf("an entry with no response or request has an answer: %+v", *e.ans)
	}
	if a := e.answer(); a.status != "" || a.ref != "" || a.location != "" || a.outcome != (span{-1, -1}) || a.locationAt != (span{-1, -1}) {
		t.Errorf("the answer of an entry without one: %+v", a)
	}

	// A batch or history entry: response and request read as before.
	e = &entryNode{parts: noParts}
	e.parts[partResponse], e.parts[partRequest] = at("response"), at("request")
	a := r.entryParts(e).answer()
	if e.partsErr != nil {
		t.Fatal(e.partsErr)
	}
	loc := bytes.Index(body, []byte(`"Patient/p1/_history/1"`))
	want := entryAnswer{status: "201 Created", outcome: span{-1, -1}, ref: "Patient/p1",
		location: "Patient/p1/_history/1", etag: `W/"1"`, lastModified: "2024-01-01T00:00:00Z",
		locationAt: span{loc, loc + len(`"Patient/p1/_history/1"`)}}
	if a != want {
		t.Errorf("answer\n got %+v\nwant %+v", a, want)
	}
}

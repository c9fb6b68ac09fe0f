package proxy

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// TestAuditReadsPagingEndsQA38C (QA round 38, area C): paging GET
// /admin/audit?audit_reads=true&limit=1 never ended, since each page
// appends the audit-read entry the next page finds (67faf46). The listing
// is now bounded at the ledger's head as of its first page, the bound
// carried in the cursor: the pages list the reads made before the first
// one, each once, and end.
func TestAuditReadsPagingEndsQA38C(t *testing.T) {
	t.Parallel()
	l := seededLedger(t)
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
	for _, q := range []string{"patient=Patient/p1", "recipient=Organization/org-b"} {
		if resp, body := h.get("/admin/audit?"+q, tokAdmin); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	var seqs []uint64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages == 10 {
			t.Fatalf("paging audit_reads=true&limit=1 has not ended after 10 pages: %v", seqs)
		}
		path := "/admin/audit?audit_reads=true&limit=1"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, resp.StatusCode, body)
		}
		var page auditPage
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			seqs = append(seqs, e.Seq)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(seqs) != 2 || seqs[0] != 13 || seqs[1] != 14 {
		t.Errorf("the pages listed the audit reads %v, want the two made before them (13 14)", seqs)
	}
	// A cursor of an older release (no bound: the form CursorAfter still
	// gives) is read as before, bounded from that page on: it continues
	// after seq 13, and a page of one ends too.
	first, err := l.Find(t.Context(), audit.Query{AuditReads: true, Limit: 1})
	if err != nil || len(first) != 1 {
		t.Fatalf("find: %v %v", first, err)
	}
	cursor = audit.CursorAfter(first[0]).String()
	for pages := 0; ; pages++ {
		if pages == 30 {
			t.Fatal("paging on from an old cursor has not ended after 30 pages")
		}
		resp, body := h.get("/admin/audit?audit_reads=true&limit=1&cursor="+url.QueryEscape(cursor), tokAdmin)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("an old cursor: %d %s", resp.StatusCode, body)
		}
		var page auditPage
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	// A cursor altered or cut is refused, as before: a bound given to a
	// version 1 cursor, a version 2 cursor without one, a version unknown.
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) != 25 || raw[0] != 2 {
		t.Fatalf("next = %q (%x, %v), want a version 2 cursor with its bound", cursor, raw, err)
	}
	v1WithBound := append([]byte{1}, raw[1:]...)
	v2NoBound := append(append([]byte{}, raw[:17]...), make([]byte, 8)...)
	v3 := append([]byte{3}, raw[1:]...)
	for _, bad := range []string{cursor[:len(cursor)-1], cursor + "A", base64.RawURLEncoding.EncodeToString(v1WithBound),
		base64.RawURLEncoding.EncodeToString(v2NoBound), base64.RawURLEncoding.EncodeToString(v3)} {
		if resp, body := h.get("/admin/audit?audit_reads=true&cursor="+url.QueryEscape(bad), tokAdmin); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("cursor %q: %d %.200s, want 400", bad, resp.StatusCode, body)
		}
	}
}

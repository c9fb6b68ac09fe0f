package proxy

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// refillCond is a Condition of p1: SUD (withheld from tokOther, disclosed
// to tokConsented) or ordinary.
func refillCond(id string, sud bool) string {
	code := `{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E78.5","display":"Hyperlipidemia"}`
	if sud {
		code = `{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20","display":"Opioid dependence"}`
	}
	return `{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"Patient/p1"},"code":{"coding":[` + code + `]}}`
}

// pagingUpstream serves conds as Condition searches paged by _count
// (default 3) and _offset, with self, next, previous and last links as
// servers write them; calls counts its requests.
func pagingUpstream(h **harness, conds []string, calls *atomic.Int64) http.HandlerFunc {
	p := upstreamPaging{
		url: func(count, o int) string {
			return (*h).base() + `/Condition?subject=Patient/p1&_count=` + strconv.Itoa(count) + `&_offset=` + strconv.Itoa(o)
		},
		offset: "_offset", first: true, previous: true, last: true,
	}
	return p.serve(len(conds), calls, func(from, to int) []string {
		var entries []string
		for i := from; i < to; i++ {
			entries = append(entries, match(conds[i]))
		}
		return entries
	})
}

// upstreamPaging is how a fake upstream pages a search: url is the page of
// count matches at offset o, offset the query parameter that reads o; a
// page links itself, its next page, and the first, previous and last pages
// as those say.
type upstreamPaging struct {
	url                   func(count, o int) string
	offset                string
	first, previous, last bool
}

// serve serves a searchset of n matches paged by _count (default
// 3) and p.offset; page writes the entries of matches [from, to) and what
// goes with them. calls, when not nil, counts its requests.
func (p upstreamPaging) serve(n int, calls *atomic.Int64, page func(from, to int) []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if calls != nil {
			calls.Add(1)
		}
		q := r.URL.Query()
		count, offset := 3, 0
		if c, err := strconv.Atoi(q.Get("_count")); err == nil {
			count = c
		}
		if o, err := strconv.Atoi(q.Get(p.offset)); err == nil {
			offset = o
		}
		link := func(rel string, o int) string {
			return `{"relation":"` + rel + `","url":"` + p.url(count, o) + `"}`
		}
		links := []string{link("self", offset)}
		if p.first {
			links = append(links, link("first", 0))
		}
		if offset+count < n {
			links = append(links, link("next", offset+count))
		}
		if p.previous && offset > 0 {
			links = append(links, link("previous", max(0, offset-count)))
		}
		if p.last && n > 0 {
			links = append(links, link("last", (n-1)/count*count))
		}
		entries := page(offset, min(offset+count, n))
		body := `{"resourceType":"Bundle","type":"searchset","link":[` + strings.Join(links, ",") + `],"entry":[` + strings.Join(entries, ",") + `]}`
		fhirJSONHandler(200, body)(w, r)
	}
}

// pagesOf follows a search's next links through the proxy and returns the
// ids of each page; it fails on a previous or last link.
func pagesOf(t *testing.T, h *harness, path, token string) [][]string {
	t.Helper()
	var pages [][]string
	for i := 0; path != ""; i++ {
		if i > 50 {
			t.Fatalf("more than 50 pages")
		}
		resp, out := h.get(path, token)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, out)
		}
		ids, total := searchIDs(t, out)
		if total != nil {
			t.Errorf("a page of a paged search keeps a total: %s", out)
		}
		pages = append(pages, ids)
		links := pageLinksOf(t, out)
		if links["previous"] != "" || links["last"] != "" || links["prev"] != "" {
			t.Errorf("a page keeps the upstream's previous or last link: %v", links)
		}
		path = ""
		if next := links["next"]; next != "" {
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			path = u.RequestURI()
		}
	}
	return pages
}

// TestRefillPagesAsIfWithheldAbsent: a caller pages through a search whose
// matches are partly withheld exactly as through the same search on a
// server that never had them: full pages, the same ids on each, no page
// telling where a withheld match stood. Before refill the first page of
// three held c0 and c2 (c1 withheld) and the second page was empty.
func TestRefillPagesAsIfWithheldAbsent(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true, 4: true, 5: true, 6: true, 10: true, 11: true}
	var all, visible []string
	for i := range 14 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	for _, count := range []string{"", "1", "2", "3", "5"} {
		var calls, callsVisible atomic.Int64
		var h, hv *harness
		h = newHarness(t, pagingUpstream(&h, all, &calls))
		hv = newHarness(t, pagingUpstream(&hv, visible, &callsVisible))
		path := "/fhir/Condition?subject=Patient/p1"
		if count != "" {
			path += "&_count=" + count
		}
		got := pagesOf(t, h, path, tokOther)
		want := pagesOf(t, hv, path, tokOther)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("_count=%s: pages %v, want %v (as on a server without the withheld matches)", count, got, want)
		}
		// The consented caller sees the server's own pages.
		var ids []string
		for _, p := range pagesOf(t, h, path, tokConsented) {
			ids = append(ids, p...)
		}
		if len(ids) != len(all) || ids[1] != "c1" {
			t.Errorf("_count=%s: the consented caller's pages hold %v", count, ids)
		}
	}
}

// TestRefillEmptyFirstPage: the README's old example. Condition?_id=a,b
// with _count=1 answered an empty first page when a was withheld and a
// page of b when a did not exist.
func TestRefillEmptyFirstPage(t *testing.T) {
	t.Parallel()
	var calls, callsV atomic.Int64
	var h, hv *harness
	h = newHarness(t, pagingUpstream(&h, []string{refillCond("a", true), refillCond("b", false)}, &calls))
	hv = newHarness(t, pagingUpstream(&hv, []string{refillCond("b", false)}, &callsV))
	got := pagesOf(t, h, "/fhir/Condition?subject=Patient/p1&_count=1", tokOther)
	want := pagesOf(t, hv, "/fhir/Condition?subject=Patient/p1&_count=1", tokOther)
	if !slices.EqualFunc(got, want, slices.Equal) || len(got) != 1 {
		t.Fatalf("pages %v, want %v", got, want)
	}
}

// TestRefillRecordsEachDisclosureOnce: a match read again for a later
// page (skipped) or read ahead and left for the next page is not
// recorded as disclosed on this one; every disclosed match is recorded
// once, on the page that shows it.
func TestRefillRecordsEachDisclosureOnce(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true, 7: true} // windows that stop inside upstream pages
	var conds []string
	for i := range 10 {
		conds = append(conds, refillCond("c"+strconv.Itoa(i), withheld[i]))
	}
	var calls atomic.Int64
	var h *harness
	h = newHarness(t, pagingUpstream(&h, conds, &calls))
	pages := pagesOf(t, h, "/fhir/Condition?subject=Patient/p1&_count=3", tokOther)
	shown := map[string]int{}
	for _, p := range pages {
		for _, id := range p {
			shown[id]++
		}
	}
	recorded := map[string]int{}
	h.ledger.mu.Lock()
	for _, e := range h.ledger.entries {
		for _, it := range e.Disclosed {
			recorded[it.ID]++
		}
	}
	h.ledger.mu.Unlock()
	for i := range 10 {
		id := "c" + strconv.Itoa(i)
		want := 1
		if withheld[i] {
			want = 0
		}
		if shown[id] != want || recorded[id] != want {
			t.Errorf("%s: shown %d times, recorded as disclosed %d times, want %d", id, shown[id], recorded[id], want)
		}
	}
}

// TestRefillBudget: a page that would read more upstream pages than
// enforcement.paging_refill_pages allows goes out short with its next
// link, and the operator is told; the caller still reaches every match.
func TestRefillBudget(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	conds := []string{refillCond("a", true), refillCond("b", true), refillCond("c", true), refillCond("d", false)}
	var calls atomic.Int64
	var h *harness
	h = newHarness(t, pagingUpstream(&h, conds, &calls), func(o *Options, d *Deps) {
		o.Requests.RefillPages = 2
		d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	pages := pagesOf(t, h, "/fhir/Condition?subject=Patient/p1&_count=1", tokOther)
	if len(pages) != 2 || len(pages[0]) != 0 || !slices.Equal(pages[1], []string{"d"}) {
		t.Fatalf("pages %v, want [[] [d]]", pages)
	}
	if !strings.Contains(logs.String(), "paging_refill_pages") {
		t.Fatalf("the short page was not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "Patient/p1") {
		t.Fatalf("the log names the query: %s", logs.String())
	}
}

// TestRefillNextPageOfAnotherSearch: an upstream next link naming another
// type's search is not read to refill a page: the page goes out as it is,
// its next link a page token as before refill.
func TestRefillNextPageOfAnotherSearch(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body := `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + h.base() + `/Observation?_offset=1"}],"entry":[` + match(refillCond("a", true)) + `]}`
		fhirJSONHandler(200, body)(w, r)
	})
	resp, out := h.get("/fhir/Condition?subject=Patient/p1", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(out, "Opioid") || pageLinksOf(t, out)["next"] == "" || calls.Load() != 1 {
		t.Fatalf("%d %s (%d upstream requests)", resp.StatusCode, out, calls.Load())
	}
}

// TestRefillIncludesOnce: a refilled page carries the includes of each
// upstream page it takes matches from, each resource once.
func TestRefillIncludesOnce(t *testing.T) {
	t.Parallel()
	patient := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`
	conds := []string{refillCond("c0", true), refillCond("c1", false), refillCond("c2", false), refillCond("c3", false)}
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("_offset"))
		links := `{"relation":"self","url":"` + h.base() + `/Condition?_include=Condition:subject&_count=2&_offset=` + strconv.Itoa(offset) + `"}`
		if offset == 0 {
			links += `,{"relation":"next","url":"` + h.base() + `/Condition?_include=Condition:subject&_count=2&_offset=2"}`
		}
		body := `{"resourceType":"Bundle","type":"searchset","link":[` + links + `],"entry":[` + match(conds[offset]) + `,` + match(conds[offset+1]) + `,` + include(patient) + `]}`
		fhirJSONHandler(200, body)(w, r)
	})
	_, out := h.get("/fhir/Condition?_include=Condition:subject&_count=2", tokOther)
	ids, _ := searchIDs(t, out)
	if !slices.Equal(ids, []string{"c1", "c2", "p1"}) { // matches first, as the server writes a page
		t.Fatalf("first page %v: %s", ids, out)
	}
	next := pageLinksOf(t, out)["next"]
	u, _ := url.Parse(next)
	if next == "" {
		t.Fatalf("no next link: %s", out)
	}
	_, out = h.get(u.RequestURI(), tokOther)
	if ids, _ := searchIDs(t, out); !slices.Equal(ids, []string{"c3", "p1"}) {
		t.Fatalf("second page %v: %s", ids, out)
	}
}

// TestRefillPageJudgedByItsOwnQuery: an upstream page read to refill a
// POST _search's first page is judged by the query of the server's link,
// which carries the form: o4 matches only on its cut value.
func TestRefillPageJudgedByItsOwnQuery(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		var body string
		if r.URL.Query().Get("_offset") == "2" {
			body = `{"resourceType":"Bundle","type":"searchset","entry":[` + match(cutObs("o4", "150")) + `,` + match(plainObs("o3", "")) + `]}`
		} else {
			link := h.base() + "/Observation?value-quantity=gt100&_count=2"
			body = `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"` + link + `"},{"relation":"next","url":"` + link + `&_offset=2"}],"entry":[` + match(cutObs("o1", "150")) + `,` + match(plainObs("o2", "")) + `]}`
		}
		fhirJSONHandler(200, body)(w, r)
	})
	resp, out := h.do("POST", "/fhir/Observation/_search", tokOther, "application/x-www-form-urlencoded", "value-quantity=gt100&_count=2")
	if ids, _ := searchIDs(t, out); resp.StatusCode != 200 || !slices.Equal(ids, []string{"o2", "o3"}) {
		t.Fatalf("%d %v: %s", resp.StatusCode, ids, out)
	}
}

package proxy

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// refillCondBy is refillCond with an asserter: Practitioner/pr<id>.
func refillCondBy(id string, sud bool) string {
	c := refillCond(id, sud)
	return strings.TrimSuffix(c, "}") + `,"asserter":{"reference":"Practitioner/pr` + id + `"}}`
}

// includingUpstream serves conds as Condition?_include=Condition:asserter
// paged by _count (default 3) and _offset, as servers do: each page's
// matches, then the Practitioner each of them asserts as an include.
func includingUpstream(h **harness, ids []string, conds []string) http.HandlerFunc {
	return includingUpstreamOf(h, ids, conds, "_include=Condition:asserter", func(id string) string {
		return `{"resourceType":"Practitioner","id":"pr` + id + `","name":[{"family":"P` + id + `"}]}`
	})
}

// includingUpstreamOf is includingUpstream with the search's include
// parameter and the include of each match made by inc.
func includingUpstreamOf(h **harness, ids []string, conds []string, param string, inc func(id string) string) http.HandlerFunc {
	p := upstreamPaging{
		url: func(count, o int) string {
			return (*h).base() + `/Condition?` + param + `&_count=` + strconv.Itoa(count) + `&_offset=` + strconv.Itoa(o)
		},
		offset: "_offset", first: true,
	}
	return p.serve(len(conds), nil, func(from, to int) []string {
		var entries, incs []string
		for i := from; i < to; i++ {
			entries = append(entries, match(conds[i]))
			incs = append(incs, include(inc(ids[i])))
		}
		return append(entries, incs...)
	})
}

// TestRefillIncludesOnlyOfTheWindow: a page that takes part of an upstream
// page's matches (a window starting after the first of them, or stopping
// before the last) carries only the includes of the matches it shows, as
// the same search on a server without the withheld matches would. Before,
// it carried every include of the upstream page: the includes of the
// matches left for the next page showed that the page was refilled, and
// where the upstream page began (so how many matches before it were
// withheld).
func TestRefillIncludesOnlyOfTheWindow(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true, 5: true, 6: true}
	var ids, all, vids, visible []string
	for i := range 11 {
		id := "c" + strconv.Itoa(i)
		c := refillCondBy(id, withheld[i])
		ids, all = append(ids, id), append(all, c)
		if !withheld[i] {
			vids, visible = append(vids, id), append(visible, c)
		}
	}
	for _, count := range []string{"2", "3", "4"} {
		var h, hv *harness
		h = newHarness(t, includingUpstream(&h, ids, all))
		hv = newHarness(t, includingUpstream(&hv, vids, visible))
		path := "/fhir/Condition?_include=Condition:asserter&_count=" + count
		got := pagesOf(t, h, path, tokOther) // in order: matches first, as the server writes them
		want := pagesOf(t, hv, path, tokOther)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("_count=%s: pages %v, want %v (as on a server without the withheld matches)", count, got, want)
		}
		// A _revinclude: the Provenance of each match.
		prov := func(id string) string {
			return `{"resourceType":"Provenance","id":"pv` + id + `","target":[{"reference":"Condition/` + id + `"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/x"}}]}`
		}
		h = newHarness(t, includingUpstreamOf(&h, ids, all, "_revinclude=Provenance:target", prov))
		hv = newHarness(t, includingUpstreamOf(&hv, vids, visible, "_revinclude=Provenance:target", prov))
		path = "/fhir/Condition?_revinclude=Provenance:target&_count=" + count
		got = pagesOf(t, h, path, tokOther) // in order: matches first, as the server writes them
		want = pagesOf(t, hv, path, tokOther)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("_revinclude _count=%s: pages %v, want %v (as on a server without the withheld matches)", count, got, want)
		}
	}
}

// TestRefillReadsSlowPagesAsTheSearch: an upstream page read to refill a
// page has the request's upstream_timeout, as the search's first page has.
// Before, it was read by the proxy's client for its own small reads (5 s
// for the whole exchange): a page the server took 6 s to answer withheld
// the caller's page (504), where the same page reached as the first page
// of a search came back.
func TestRefillReadsSlowPagesAsTheSearch(t *testing.T) {
	t.Parallel()
	conds := []string{refillCond("a", true), refillCond("b", false), refillCond("c", false)}
	var h *harness
	paged := pagingUpstream(&h, conds, new(atomic.Int64))
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("_offset") != "" {
			time.Sleep(5500 * time.Millisecond)
		}
		paged(w, r)
	}, func(o *Options, _ *Deps) { o.UpstreamTimeout = 20 * time.Second })
	resp, out := h.get("/fhir/Condition?subject=Patient/p1&_count=1", tokOther)
	if ids, _ := searchIDs(t, out); resp.StatusCode != http.StatusOK || !slices.Equal(ids, []string{"b"}) {
		t.Fatalf("%d %v: %s", resp.StatusCode, ids, out)
	}
}

// TestRefillPageKeepsTheDeadline: a refill read still ends at the
// request's upstream_timeout: a page the server never answers withholds
// the caller's page (504), in time, also when its headers came and its
// body stalls.
func TestRefillPageKeepsTheDeadline(t *testing.T) {
	t.Parallel()
	conds := []string{refillCond("a", true), refillCond("b", false), refillCond("c", false)}
	var h *harness
	paged := pagingUpstream(&h, conds, new(atomic.Int64))
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("_offset") != "" {
			// Its headers and the start of its body, then nothing.
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[`))
			w.(http.Flusher).Flush()
			select {
			case <-stop:
			case <-r.Context().Done():
			}
			return
		}
		paged(w, r)
	}, func(o *Options, _ *Deps) { o.UpstreamTimeout = time.Second })
	start := time.Now()
	resp, out := h.get("/fhir/Condition?subject=Patient/p1&_count=1", tokOther)
	if resp.StatusCode != http.StatusGatewayTimeout || strings.Contains(out, `"b"`) || time.Since(start) > 8*time.Second {
		t.Fatalf("%d after %v: %s", resp.StatusCode, time.Since(start), out)
	}
}

// hapiUpstream serves conds as HAPI does: the first page at
// Condition?..., the next ones by a handle at the base
// (?_getpages=h1&_getpagesoffset=n).
func hapiUpstream(h **harness, conds []string) http.HandlerFunc {
	p := upstreamPaging{
		url: func(count, o int) string {
			return (*h).base() + `?_getpages=h1&_getpagesoffset=` + strconv.Itoa(o) + `&_count=` + strconv.Itoa(count) + `&_bundletype=searchset`
		},
		offset: "_getpagesoffset", previous: true,
	}
	return p.serve(len(conds), nil, func(from, to int) []string {
		var entries []string
		for i := from; i < to; i++ {
			entries = append(entries, match(conds[i]))
		}
		return entries
	})
}

// TestRefillHAPIHandles: the invariant over HAPI's paging handles, also
// streamed: the pages read as on a server without the withheld matches,
// and every disclosed match is recorded once. A handle page read to refill
// a page is asked for at the base as the server wrote it, and as the
// proxy asks for one a page token names (".../fhir/R4?_getpages=..."):
// before, the refill read asked for ".../fhir/R4/?_getpages=...", which a
// server routing its base exactly does not answer (a 502 for the caller's
// page where following the page link worked).
func TestRefillHAPIHandles(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{0: true, 2: true, 3: true, 7: true, 8: true, 9: true, 10: true}
	var all, visible []string
	for i := range 13 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	for _, count := range []string{"2", "3"} {
		var h, hv *harness
		exact := func(h **harness, conds []string) http.HandlerFunc {
			serve := hapiUpstream(h, conds)
			return func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("_getpages") != "" && r.URL.Path != "/fhir/R4" {
					http.NotFound(w, r) // no route but the base's own
					return
				}
				serve(w, r)
			}
		}
		h = newHarness(t, exact(&h, all))
		hv = newHarness(t, exact(&hv, visible))
		path := "/fhir/Condition?subject=Patient/p1&_count=" + count
		got := pagesOf(t, h, path, tokOther)
		want := pagesOf(t, hv, path, tokOther)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("_count=%s: pages %v, want %v", count, got, want)
		}
		recorded := map[string]int{}
		h.ledger.mu.Lock()
		for _, e := range h.ledger.entries {
			for _, it := range e.Disclosed {
				recorded[it.ID]++
			}
		}
		h.ledger.mu.Unlock()
		for i := range 13 {
			if want := map[bool]int{true: 0, false: 1}[withheld[i]]; recorded["c"+strconv.Itoa(i)] != want {
				t.Errorf("_count=%s: c%d recorded %d times, want %d", count, i, recorded["c"+strconv.Itoa(i)], want)
			}
		}
	}
}

// TestRefillTypeHistory: the invariant over a type's history, paged.
func TestRefillTypeHistory(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true, 2: true, 6: true}
	var all, visible []string
	for i := range 10 {
		c := `{"resource":` + refillCond("c"+strconv.Itoa(i), withheld[i]) + `,"request":{"method":"PUT","url":"Condition/c` + strconv.Itoa(i) + `"},"response":{"status":"200 OK"}}`
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var current []string // each resource's current version, read for each page (withholdVersionsOfWithheld)
	for i := range 10 {
		current = append(current, refillCond("c"+strconv.Itoa(i), withheld[i]))
	}
	serve := func(h **harness, entries []string) http.HandlerFunc {
		return currentReads(func(w http.ResponseWriter, r *http.Request) {
			offset, _ := strconv.Atoi(r.URL.Query().Get("_offset"))
			links := `{"relation":"self","url":"` + (*h).base() + `/Condition/_history?_offset=` + strconv.Itoa(offset) + `"}`
			if offset+3 < len(entries) {
				links += `,{"relation":"next","url":"` + (*h).base() + `/Condition/_history?_offset=` + strconv.Itoa(offset+3) + `"}`
			}
			body := `{"resourceType":"Bundle","type":"history","link":[` + links + `],"entry":[` + strings.Join(entries[offset:min(offset+3, len(entries))], ",") + `]}`
			fhirJSONHandler(200, body)(w, r)
		}, currentOf(current...))
	}
	var h, hv *harness
	h = newHarness(t, serve(&h, all))
	hv = newHarness(t, serve(&hv, visible))
	got := pagesOf(t, h, "/fhir/Condition/_history", tokOther)
	want := pagesOf(t, hv, "/fhir/Condition/_history", tokOther)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("pages %v, want %v", got, want)
	}
}

// TestRefillOneOutcomePerPage: an upstream whose every page carries an
// outcome entry: a refilled page carries one, as each page of a server
// without the withheld matches does. Two told that the page was refilled.
func TestRefillOneOutcomePerPage(t *testing.T) {
	t.Parallel()
	outcome := `{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"search ran"}]},"search":{"mode":"outcome"}}`
	serve := func(h **harness, conds []string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			offset, _ := strconv.Atoi(r.URL.Query().Get("_offset"))
			links := `{"relation":"self","url":"` + (*h).base() + `/Condition?_count=2&_offset=` + strconv.Itoa(offset) + `"}`
			if offset+2 < len(conds) {
				links += `,{"relation":"next","url":"` + (*h).base() + `/Condition?_count=2&_offset=` + strconv.Itoa(offset+2) + `"}`
			}
			var entries []string
			for _, c := range conds[offset:min(offset+2, len(conds))] {
				entries = append(entries, match(c))
			}
			entries = append(entries, outcome)
			body := `{"resourceType":"Bundle","type":"searchset","link":[` + links + `],"entry":[` + strings.Join(entries, ",") + `]}`
			fhirJSONHandler(200, body)(w, r)
		}
	}
	all := []string{refillCond("a", false), refillCond("w", true), refillCond("b", false), refillCond("c", false), refillCond("d", false)}
	visible := []string{all[0], all[2], all[3], all[4]}
	var h, hv *harness
	h = newHarness(t, serve(&h, all))
	hv = newHarness(t, serve(&hv, visible))
	count := func(pages [][]string) []int {
		var out []int
		for _, p := range pages {
			out = append(out, len(p))
		}
		return out
	}
	got := pagesOf(t, h, "/fhir/Condition?_count=2", tokOther)
	want := pagesOf(t, hv, "/fhir/Condition?_count=2", tokOther)
	if !slices.Equal(count(got), count(want)) {
		t.Errorf("pages %v, want %v (entries per page %v, want %v)", got, want, count(got), count(want))
	}
}

// TestRefillRecordsEachWithheldOnce: every match the caller's pages
// passed over withheld is in the ledger as withheld once, also one that
// followed the last match a page took on its upstream page when only
// withheld matches followed it there (the page's next link then names the
// upstream's next page). Before, those were in no page's window, so in no
// ledger entry.
func TestRefillRecordsEachWithheldOnce(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true, 7: true, 8: true}
	var conds []string
	for i := range 11 {
		conds = append(conds, refillCond("c"+strconv.Itoa(i), withheld[i]))
	}
	var h *harness
	h = newHarness(t, pagingUpstream(&h, conds, new(atomic.Int64)))
	pages := pagesOf(t, h, "/fhir/Condition?subject=Patient/p1&_count=3", tokOther)
	disclosed, held := map[string]int{}, map[string]int{}
	h.ledger.mu.Lock()
	for _, e := range h.ledger.entries {
		for _, it := range e.Disclosed {
			disclosed[it.ID]++
		}
		for _, it := range e.Withheld {
			held[it.ID]++
		}
	}
	h.ledger.mu.Unlock()
	for i := range 11 {
		id := "c" + strconv.Itoa(i)
		wantD, wantW := 1, 0
		if withheld[i] {
			wantD, wantW = 0, 1
		}
		if disclosed[id] != wantD || held[id] != wantW {
			t.Errorf("%s: recorded disclosed %d, withheld %d times; want %d, %d (pages %v)", id, disclosed[id], held[id], wantD, wantW, pages)
		}
	}
}

// TestRefillPostSearchWithoutSelf: a POST _search whose answer has no
// self link is refilled as any search: its first page is full, and it
// keeps none of the upstream's previous or last links. Before, such a
// page went out as before refill: short where a match was withheld, with
// a next link, which told that (and where) one was.
func TestRefillPostSearchWithoutSelf(t *testing.T) {
	t.Parallel()
	conds := []string{refillCond("a", false), refillCond("w", true), refillCond("b", false), refillCond("c", false), refillCond("d", false)}
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("_offset"))
		link := func(rel string, o int) string {
			return `{"relation":"` + rel + `","url":"` + h.base() + `/Condition?subject=Patient/p1&_count=2&_offset=` + strconv.Itoa(o) + `"}`
		}
		links := []string{link("last", 4)}
		if offset+2 < len(conds) {
			links = append(links, link("next", offset+2))
		}
		if offset > 0 {
			links = append(links, link("previous", offset-2))
		}
		var entries []string
		for _, c := range conds[offset:min(offset+2, len(conds))] {
			entries = append(entries, match(c))
		}
		body := `{"resourceType":"Bundle","type":"searchset","link":[` + strings.Join(links, ",") + `],"entry":[` + strings.Join(entries, ",") + `]}`
		fhirJSONHandler(200, body)(w, r)
	})
	resp, out := h.do("POST", "/fhir/Condition/_search", tokOther, "application/x-www-form-urlencoded", "subject=Patient/p1&_count=2")
	ids, _ := searchIDs(t, out)
	links := pageLinksOf(t, out)
	if resp.StatusCode != 200 || !slices.Equal(ids, []string{"a", "b"}) || links["last"] != "" || links["previous"] != "" || links["next"] == "" {
		t.Fatalf("%d %v %v: %s", resp.StatusCode, ids, links, out)
	}
	u, _ := url.Parse(links["next"])
	_, out = h.get(u.RequestURI(), tokOther)
	if ids, _ := searchIDs(t, out); !slices.Equal(ids, []string{"c", "d"}) {
		t.Fatalf("second page %v: %s", ids, out)
	}
}

package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// batchPagingUpstream answers GET searches as pagingUpstream does, and a
// batch POSTed to its base with a batch-response whose entries hold what
// each entry's GET url answers.
func batchPagingUpstream(h **harness, conds []string, calls *atomic.Int64) http.HandlerFunc {
	search := pagingUpstream(h, conds, calls)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			search(w, r)
			return
		}
		var b struct {
			Entry []struct {
				Request struct{ Method, URL string } `json:"request"`
			} `json:"entry"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var entries []string
		for _, e := range b.Entry {
			rec := httptest.NewRecorder()
			sub := httptest.NewRequest(http.MethodGet, "/fhir/R4/"+e.Request.URL, nil)
			search(rec, sub)
			entries = append(entries, `{"resource":`+rec.Body.String()+`,"response":{"status":"200 OK"}}`)
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
	}
}

// batchPagesOf sends search as the only entry of a batch, then follows
// the next links of the searchset it answers; it returns the ids of each
// page and the relations of the first page's links.
func batchPagesOf(t *testing.T, h *harness, search, token string) ([][]string, []string) {
	t.Helper()
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + search + `"}}]}`
	resp, out := h.do(http.MethodPost, "/fhir", token, "application/fhir+json", req)
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, out)
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || len(b.Entry) != 1 {
		t.Fatalf("batch answer: %v %s", err, out)
	}
	page := string(b.Entry[0].Resource)
	ids, total := searchIDs(t, page)
	if total != nil {
		t.Errorf("a batch entry's page of a paged search keeps a total: %s", page)
	}
	links := pageLinksOf(t, page)
	var rels []string
	for rel := range links {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	pages := [][]string{ids}
	if next := links["next"]; next != "" {
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, pagesOf(t, h, u.RequestURI(), token)...)
	}
	return pages, rels
}

// TestBatchEntrySearchRefilledQA29B: a batch entry's search pages as the
// same search sent on its own, so a withheld match looks as an absent
// one does: the same number of matches on each page, the same links.
// Before, the batch entry Condition?subject=Patient/p1&_count=2 answered
// its first page with one match (c1 withheld) and a next link, where the
// server without c1 answered two.
func TestBatchEntrySearchRefilledQA29B(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true, 4: true, 5: true}
	var all, visible []string
	for i := range 8 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var calls, callsV atomic.Int64
	var h, hv *harness
	h = newHarness(t, batchPagingUpstream(&h, all, &calls))
	hv = newHarness(t, batchPagingUpstream(&hv, visible, &callsV))
	for _, count := range []string{"1", "2", "3"} {
		search := "Condition?subject=Patient/p1&_count=" + count
		got, gotRels := batchPagesOf(t, h, search, tokOther)
		want, wantRels := batchPagesOf(t, hv, search, tokOther)
		if !slices.EqualFunc(got, want, slices.Equal) || !slices.Equal(gotRels, wantRels) {
			t.Errorf("_count=%s: batch pages %v links %v, want %v links %v (as on a server without the withheld matches)", count, got, gotRels, want, wantRels)
		}
		if !slices.Equal(gotRels, []string{"first", "next", "self"}) {
			t.Errorf("_count=%s: the batch entry's first page links %v, want first, next and self (the proxy's own windows)", count, gotRels)
		}
		// The same pages as the search sent on its own.
		alone := pagesOf(t, h, "/fhir/"+search, tokOther)
		if !slices.EqualFunc(got, alone, slices.Equal) {
			t.Errorf("_count=%s: batch pages %v, the search on its own %v", count, got, alone)
		}
		// The consented caller sees every match, c1 second.
		var ids []string
		cp, _ := batchPagesOf(t, h, search, tokConsented)
		for _, p := range cp {
			ids = append(ids, p...)
		}
		if len(ids) != len(all) || ids[1] != "c1" {
			t.Errorf("_count=%s: the consented caller's pages hold %v", count, ids)
		}
	}
}

// TestBatchEntrySearchRecordedOnceQA29B: the matches of a batch entry's
// paged search are recorded as disclosed once, on the page that shows
// them, and the withheld one never: the batch's own run no longer records
// the whole first upstream page (c2, read ahead for the first page's
// window, is shown and recorded there; c3, left for the next page, is not
// recorded with the batch).
func TestBatchEntrySearchRecordedOnceQA29B(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true}
	var conds []string
	for i := range 6 {
		conds = append(conds, refillCond("c"+strconv.Itoa(i), withheld[i]))
	}
	var h *harness
	h = newHarness(t, batchPagingUpstream(&h, conds, nil))
	pages, _ := batchPagesOf(t, h, "Condition?subject=Patient/p1&_count=2", tokOther)
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
	for i := range 6 {
		id := "c" + strconv.Itoa(i)
		want := 1
		if withheld[i] {
			want = 0
		}
		if shown[id] != want || recorded[id] != want {
			t.Errorf("%s: shown %d times, recorded as disclosed %d times, want %d (pages %v)", id, shown[id], recorded[id], want, pages)
		}
	}
}

// TestBatchEntrySearchKeepsBatchEnrolmentCutQA29B: a batch whose Patient
// has its Part 2 enrolment cut withholds the program's Organization in
// its other entries; a paged search entry, now judged as the search on
// its own, still does (the batch's cut goes with it, and with its page
// links), so the batch does not show which program the cut hid.
func TestBatchEntrySearchKeepsBatchEnrolmentCutQA29B(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"managingOrganization":{"reference":"Organization/p2"}}`
	orgs := []string{`{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`, `{"resourceType":"Organization","id":"o2","name":"General"}`,
		`{"resourceType":"Organization","id":"o3","name":"Other"}`}
	var h *harness
	search := upstreamPaging{url: func(count, o int) string {
		return h.base() + `/Organization?_count=` + strconv.Itoa(count) + `&_offset=` + strconv.Itoa(o)
	}, offset: "_offset"}.serve(len(orgs), nil, func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, match(orgs[i]))
		}
		return out
	})
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			search(w, r)
			return
		}
		rec := httptest.NewRecorder()
		search(rec, httptest.NewRequest(http.MethodGet, "/fhir/R4/Organization?_count=1", nil))
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":`+pat+`,"response":{"status":"200 OK"}},`+
			`{"resource":`+rec.Body.String()+`,"response":{"status":"200 OK"}}]}`)(w, r)
	}, withProgram)
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/p1"}},{"request":{"method":"GET","url":"Organization?_count=1"}}]}`
	for _, tc := range []struct {
		token string
		want  []string
	}{{tokOther, []string{"o2"}}, {tokConsented, []string{"p2"}}} {
		resp, out := h.do(http.MethodPost, "/fhir", tc.token, "application/fhir+json", req)
		if resp.StatusCode != 200 {
			t.Fatalf("batch: %d %s", resp.StatusCode, out)
		}
		var b struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal([]byte(out), &b); err != nil || len(b.Entry) != 2 {
			t.Fatalf("batch answer: %v %s", err, out)
		}
		ids, _ := searchIDs(t, string(b.Entry[1].Resource))
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: the Organization search's first page holds %v, want %v: %s", tc.token, ids, tc.want, b.Entry[1].Resource)
		}
		if tc.token == tokOther {
			// Nor does its next page show the program.
			next := pageLinksOf(t, string(b.Entry[1].Resource))["next"]
			u, err := url.Parse(next)
			if err != nil || next == "" {
				t.Fatalf("no next link: %s", b.Entry[1].Resource)
			}
			for _, p := range pagesOf(t, h, u.RequestURI(), tc.token) {
				if slices.Contains(p, "p2") {
					t.Errorf("a later page shows the program's Organization: %v", p)
				}
			}
		}
	}
}

// TestBatchEntrySearchMarkQA29B: the batch-response's high-water mark
// covers what its entries' pages show, also a match a page took from the
// upstream's next page (c2, labelled M, refilled into the first page
// where the withheld c1 stood), and not what a page left out.
func TestBatchEntrySearchMarkQA29B(t *testing.T) {
	t.Parallel()
	c2 := strings.Replace(refillCond("c2", false), `"id":"c2",`, `"id":"c2","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"M"}]},`, 1)
	conds := []string{refillCond("c0", false), refillCond("c1", true), c2, refillCond("c3", false)}
	var h *harness
	h = newHarness(t, batchPagingUpstream(&h, conds, nil))
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Condition?subject=Patient/p1&_count=2"}}]}`
	resp, out := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
	var b struct {
		Meta struct {
			Security []struct{ System, Code string }
		}
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || resp.StatusCode != 200 || len(b.Entry) != 1 {
		t.Fatalf("batch: %d %v %s", resp.StatusCode, err, out)
	}
	if ids, _ := searchIDs(t, string(b.Entry[0].Resource)); !slices.Equal(ids, []string{"c0", "c2"}) {
		t.Fatalf("the entry's page holds %v, want [c0 c2]", ids)
	}
	var codes []string
	for _, l := range b.Meta.Security {
		codes = append(codes, l.Code)
	}
	if !slices.Contains(codes, "M") {
		t.Errorf("the batch-response's mark %v misses the M of c2, which its entry's page shows", codes)
	}
}

// batchNoLinksUpstream answers as batchPagingUpstream does, but writes no
// links in the searchsets of its batch-response, as Medplum does: the
// entry's answer is the search's first page alone.
func batchNoLinksUpstream(h **harness, conds []string) http.HandlerFunc {
	search := pagingUpstream(h, conds, nil)
	paged := batchPagingUpstream(h, conds, nil)
	linkRE := regexp.MustCompile(`"link":\[[^\]]*\],`)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			search(w, r)
			return
		}
		rec := httptest.NewRecorder()
		paged(rec, r)
		fhirJSONHandler(200, linkRE.ReplaceAllString(rec.Body.String(), ""))(w, r)
	}
}

// TestBatchEntrySearchWithoutLinksRefilledQA29B: a server that answers a
// batch entry's search with its first page and no links (Medplum) had
// the page come out short when a match was withheld: one Condition of
// _count=2 where a server without the withheld one answered two. The page
// is now filled from the same search sent on its own, and still has no
// links.
func TestBatchEntrySearchWithoutLinksRefilledQA29B(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true, 2: true, 4: true}
	var all, visible []string
	for i := range 7 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var h, hv *harness
	h = newHarness(t, batchNoLinksUpstream(&h, all))
	hv = newHarness(t, batchNoLinksUpstream(&hv, visible))
	for _, count := range []string{"1", "2", "3", "10"} {
		search := "Condition?subject=Patient/p1&_count=" + count
		got, gotRels := batchPagesOf(t, h, search, tokOther)
		want, wantRels := batchPagesOf(t, hv, search, tokOther)
		if !slices.EqualFunc(got, want, slices.Equal) || !slices.Equal(gotRels, wantRels) || len(gotRels) != 0 {
			t.Errorf("_count=%s: batch page %v links %v, want %v links %v (as on a server without the withheld matches)", count, got, gotRels, want, wantRels)
		}
		cp, _ := batchPagesOf(t, h, search, tokConsented)
		if n, _ := strconv.Atoi(count); len(cp) != 1 || len(cp[0]) != min(n, len(all)) || n > 1 && cp[0][1] != "c1" {
			t.Errorf("_count=%s: the consented caller's page %v", count, cp)
		}
	}
	// Each match the page shows is recorded once, a withheld one and one
	// read ahead but not shown never.
	var h2 *harness
	h2 = newHarness(t, batchNoLinksUpstream(&h2, all))
	pages, _ := batchPagesOf(t, h2, "Condition?subject=Patient/p1&_count=2", tokOther)
	if len(pages) != 1 || !slices.Equal(pages[0], []string{"c0", "c3"}) {
		t.Fatalf("page %v, want [[c0 c3]]", pages)
	}
	recorded := map[string]int{}
	h2.ledger.mu.Lock()
	for _, e := range h2.ledger.entries {
		for _, it := range e.Disclosed {
			recorded[it.ID]++
		}
	}
	h2.ledger.mu.Unlock()
	if len(recorded) != 2 || recorded["c0"] != 1 || recorded["c3"] != 1 {
		t.Errorf("recorded as disclosed %v, want c0 and c3 once each", recorded)
	}
}

// historyUpstream serves conds (one version each) as Condition/_history
// paged by _count (default 3) and _offset, with self and next links, and
// a batch whose entries GET it with history Bundles without links, as
// Medplum answers a batch.
func historyUpstream(h **harness, conds []string) http.HandlerFunc {
	page := func(r *http.Request, links bool) string {
		q := r.URL.Query()
		count, offset := 3, 0
		if c, err := strconv.Atoi(q.Get("_count")); err == nil {
			count = c
		}
		if o, err := strconv.Atoi(q.Get("_offset")); err == nil {
			offset = o
		}
		link := func(rel string, o int) string {
			return `{"relation":"` + rel + `","url":"` + (*h).base() + `/Condition/_history?_count=` + strconv.Itoa(count) + `&_offset=` + strconv.Itoa(o) + `"}`
		}
		var entries []string
		for i := offset; i < min(offset+count, len(conds)); i++ {
			entries = append(entries, `{"resource":`+conds[i]+`,"request":{"method":"PUT","url":"Condition/c`+strconv.Itoa(i)+`"},"response":{"status":"200 OK"}}`)
		}
		out := `{"resourceType":"Bundle","type":"history",`
		if links {
			ls := []string{link("self", offset)}
			if offset+count < len(conds) {
				ls = append(ls, link("next", offset+count))
			}
			out += `"link":[` + strings.Join(ls, ",") + `],`
		}
		return out + `"entry":[` + strings.Join(entries, ",") + `]}`
	}
	// Each Condition's current version is read for each page of the history
	// (withholdVersionsOfWithheld).
	return currentReads(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			fhirJSONHandler(200, page(r, true))(w, r)
			return
		}
		var b struct {
			Entry []struct {
				Request struct{ URL string } `json:"request"`
			} `json:"entry"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil || len(b.Entry) != 1 {
			http.Error(w, "one entry", 400)
			return
		}
		sub := httptest.NewRequest(http.MethodGet, "/fhir/R4/"+b.Entry[0].Request.URL, nil)
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":`+page(sub, false)+`,"response":{"status":"200 OK"}}]}`)(w, r)
	}, currentOf(conds...))
}

// TestBatchEntryHistoryWithoutLinksRefilledQA29B: a batch entry's type
// history that a server answers without links (Medplum) and that lost a
// version is filled from the same history read on its own, as its search
// is: two versions of _count=2, as a server without the withheld one
// answers, not one.
func TestBatchEntryHistoryWithoutLinksRefilledQA29B(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true}
	var all, visible []string
	for i := range 5 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var h, hv *harness
	h = newHarness(t, historyUpstream(&h, all))
	hv = newHarness(t, historyUpstream(&hv, visible))
	got, gotRels := batchPagesOf(t, h, "Condition/_history?_count=2", tokOther)
	want, wantRels := batchPagesOf(t, hv, "Condition/_history?_count=2", tokOther)
	if !slices.EqualFunc(got, want, slices.Equal) || !slices.Equal(gotRels, wantRels) || len(want) != 1 || len(want[0]) != 2 {
		t.Errorf("batch history page %v links %v, want %v links %v (as on a server without the withheld version)", got, gotRels, want, wantRels)
	}
}

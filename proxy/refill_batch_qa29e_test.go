package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// batchTotalUpstream answers as batchNoLinksUpstream does (a batch
// entry's search: its first page, no links), but writes each searchset's
// total, the number of all its matches, as servers may (total is optional
// and a server writing it in a search's answer writes it in a batch
// entry's too).
func batchTotalUpstream(h **harness, conds []string) http.HandlerFunc {
	inner := batchNoLinksUpstream(h, conds)
	total := `"type":"searchset","total":` + strconv.Itoa(len(conds))
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		inner(rec, r)
		fhirJSONHandler(rec.Code, strings.ReplaceAll(rec.Body.String(), `"type":"searchset"`, total))(w, r)
	}
}

// batchEntryPage sends search as a batch's only entry and returns the
// searchset the entry answers, as decoded JSON.
func batchEntryPage(t *testing.T, h *harness, search, token string) map[string]any {
	t.Helper()
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + search + `"}}]}`
	resp, out := h.do(http.MethodPost, "/fhir", token, "application/fhir+json", req)
	if resp.StatusCode != 200 {
		t.Fatalf("batch: %d %s", resp.StatusCode, out)
	}
	var b struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || len(b.Entry) != 1 {
		t.Fatalf("batch answer: %v %s", err, out)
	}
	return b.Entry[0].Resource
}

// TestBatchEntryTotalWithoutLinksQA29E: a batch entry's search that a
// server answers without links but with a total. With a match withheld
// the page is refilled (e5404c3) and a refilled page never carries a
// total, where the same batch on a server without that match answers its
// page with the server's total: the total's presence told that a match
// was withheld.
func TestBatchEntryTotalWithoutLinksQA29E(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true}
	var all, visible []string
	for i := range 4 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var h, hv *harness
	h = newHarness(t, batchTotalUpstream(&h, all))
	hv = newHarness(t, batchTotalUpstream(&hv, visible))
	for _, count := range []string{"2", "10"} {
		search := "Condition?subject=Patient/p1&_count=" + count
		got := batchEntryPage(t, h, search, tokOther)
		want := batchEntryPage(t, hv, search, tokOther)
		t.Logf("_count=%s got %v want %v", count, got["total"], want["total"])
		_, gotTotal := got["total"]
		_, wantTotal := want["total"]
		if gotTotal != wantTotal || got["total"] != nil && want["total"] != nil && got["total"] != want["total"] {
			t.Errorf("_count=%s: the page's total %v, on a server without the withheld match %v", count, got["total"], want["total"])
		}
		if len(got["entry"].([]any)) != len(want["entry"].([]any)) {
			t.Errorf("_count=%s: %d entries, want %d", count, len(got["entry"].([]any)), len(want["entry"].([]any)))
		}
	}
}

// everythingUpstream serves conds as Patient/p1/$everything paged by
// _count and _offset, with links, and a batch whose entries GET it with
// the first page alone and no links, as Medplum answers a batch.
func everythingUpstream(h **harness, conds []string) http.HandlerFunc {
	p := upstreamPaging{
		url: func(count, o int) string {
			return (*h).base() + `/Patient/$everything?_count=` + strconv.Itoa(count) + `&_offset=` + strconv.Itoa(o)
		},
		offset: "_offset", first: true,
	}
	search := p.serve(len(conds), nil, func(from, to int) []string {
		var entries []string
		for i := from; i < to; i++ {
			entries = append(entries, match(conds[i]))
		}
		return entries
	})
	linkRE := regexp.MustCompile(`"link":\[[^\]]*\],`)
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Patient/p1") { // the instance, read and decided first
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		if r.Method != http.MethodPost {
			search(w, r)
			return
		}
		var b struct {
			Entry []struct {
				Request struct{ URL string } `json:"request"`
			} `json:"entry"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var entries []string
		for _, e := range b.Entry {
			rec := httptest.NewRecorder()
			search(rec, httptest.NewRequest(http.MethodGet, "/fhir/R4/"+e.Request.URL, nil))
			entries = append(entries, `{"resource":`+linkRE.ReplaceAllString(rec.Body.String(), "")+`,"response":{"status":"200 OK"}}`)
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
	}
}

// TestBatchEntryEverythingWithoutLinksQA29E: a batch entry's
// Patient/p1/$everything?_count=2 that a server answers with its first
// page and no links. An operation's answer is not refilled (e5404c3: "one
// whole, no page size to fill"), but $everything pages by _count as a
// search does: with a match withheld the page came out one short of a
// server without it.
func TestBatchEntryEverythingWithoutLinksQA29E(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true}
	var all, visible []string
	for i := range 4 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var h, hv *harness
	h = newHarness(t, everythingUpstream(&h, all))
	hv = newHarness(t, everythingUpstream(&hv, visible))
	// The same operation on its own pages as a search (refilled).
	alone := pagesOf(t, h, "/fhir/Patient/$everything?_count=2", tokOther)
	t.Logf("on its own: %v", alone)
	search := "Patient/$everything?_count=2"
	got, _ := searchIDs(t, mustJSON(t, batchEntryPage(t, h, search, tokOther)))
	want, _ := searchIDs(t, mustJSON(t, batchEntryPage(t, hv, search, tokOther)))
	if !slices.Equal(got, want) {
		t.Errorf("batch entry %s: %v, on a server without the withheld match %v", search, got, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBatchEntrySearchFormsWithoutLinksQA29E: the other forms of a batch
// entry's search a server may answer without links: each must answer as
// on a server without the withheld match, or be refused whatever the
// matches.
func TestBatchEntrySearchFormsWithoutLinksQA29E(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true}
	var all, visible []string
	for i := range 4 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var h, hv *harness
	h = newHarness(t, batchNoLinksUpstream(&h, all))
	hv = newHarness(t, batchNoLinksUpstream(&hv, visible))
	for _, e := range []struct{ method, url string }{
		{"GET", "Condition/_search?subject=Patient/p1&_count=2"},
		{"POST", "Condition/_search?subject=Patient/p1&_count=2"},
		{"GET", "Patient/p1/Condition?_count=2"},
		{"GET", "Condition?subject=Patient/p1&_count=2&_sort=_id"},
		{"GET", "Condition?subject=Patient/p1&_count=2&_include=Condition:subject"},
		{"GET", "/Condition?subject=Patient/p1&_count=2"},
		{"GET", "./Condition?subject=Patient/p1&_count=2"},
		{"GET", "Condition/?subject=Patient/p1&_count=2"},
		{"get", "Condition?subject=Patient/p1&_count=2"},
	} {
		req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"` + e.method + `","url":"` + e.url + `"}}]}`
		resp, out := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
		respV, outV := hv.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
		if resp.StatusCode != respV.StatusCode {
			t.Errorf("%s %s: %d, on a server without the withheld match %d (%s | %s)", e.method, e.url, resp.StatusCode, respV.StatusCode, out, outV)
			continue
		}
		if resp.StatusCode != 200 {
			t.Logf("%s %s: %d both", e.method, e.url, resp.StatusCode)
			continue
		}
		gotIDs, wantIDs := entryIDsOf(t, out), entryIDsOf(t, outV)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s %s: %v, on a server without the withheld match %v", e.method, e.url, gotIDs, wantIDs)
		}
	}
}

// entryIDsOf is the ids in the first entry's resource of a batch answer.
func entryIDsOf(t *testing.T, out string) []string {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil || len(b.Entry) != 1 {
		t.Fatalf("batch answer: %v %s", err, out)
	}
	ids, _ := searchIDs(t, string(b.Entry[0].Resource))
	return ids
}

// TestTransactionEntrySearchWithoutLinksQA29E: a transaction's GET entry
// answered without links is refilled as a batch's is.
func TestTransactionEntrySearchWithoutLinksQA29E(t *testing.T) {
	t.Parallel()
	withheld := map[int]bool{1: true}
	var all, visible []string
	for i := range 4 {
		c := refillCond("c"+strconv.Itoa(i), withheld[i])
		all = append(all, c)
		if !withheld[i] {
			visible = append(visible, c)
		}
	}
	var h, hv *harness
	h = newHarness(t, batchNoLinksUpstream(&h, all))
	hv = newHarness(t, batchNoLinksUpstream(&hv, visible))
	req := `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Condition?subject=Patient/p1&_count=2"}}]}`
	resp, out := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
	respV, outV := hv.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
	if resp.StatusCode != respV.StatusCode {
		t.Fatalf("%d, on a server without the withheld match %d (%s | %s)", resp.StatusCode, respV.StatusCode, out, outV)
	}
	if resp.StatusCode == 200 {
		if got, want := entryIDsOf(t, out), entryIDsOf(t, outV); !slices.Equal(got, want) {
			t.Errorf("%v, on a server without the withheld match %v", got, want)
		}
	}
}

// TestBatchEntryHistoryFormsQA29E: history entries of other levels that a
// server answers without links: the same status and versions as a server
// without the withheld version.
func TestBatchEntryHistoryFormsQA29E(t *testing.T) {
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
	h = newHarness(t, systemHistoryUpstream(&h, all))
	hv = newHarness(t, systemHistoryUpstream(&hv, visible))
	for _, u := range []string{"_history?_count=2", "Condition/_history?_count=2", "Condition/_history?_count=2&_since=2020-01-01", "Condition/c0/_history?_count=2"} {
		req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + u + `"}}]}`
		resp, out := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
		respV, outV := hv.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
		if resp.StatusCode != respV.StatusCode {
			t.Errorf("%s: %d, on a server without the withheld version %d (%s | %s)", u, resp.StatusCode, respV.StatusCode, out, outV)
			continue
		}
		if resp.StatusCode != 200 {
			t.Logf("%s: %d both: %s", u, resp.StatusCode, out)
			continue
		}
		if got, want := entryIDsOf(t, out), entryIDsOf(t, outV); !slices.Equal(got, want) {
			t.Errorf("%s: %v, on a server without the withheld version %v", u, got, want)
		}
	}
}

// systemHistoryUpstream is historyUpstream for the system's history: its
// links name _history, as the request did.
func systemHistoryUpstream(h **harness, conds []string) http.HandlerFunc {
	inner := historyUpstream(h, conds)
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		inner(rec, r)
		body := rec.Body.String()
		if strings.HasSuffix(r.URL.Path, "/R4/_history") {
			body = strings.ReplaceAll(body, "/Condition/_history?", "/_history?")
		}
		fhirJSONHandler(rec.Code, body)(w, r)
	}
}

// systemSearchUpstream serves conds as a search of the system
// ([base]?_type=Condition) paged by _count and _offset, its links at the
// base as servers write them, and a batch whose entries GET it with the
// first page alone and no links (Medplum).
func systemSearchUpstream(h **harness, conds []string) http.HandlerFunc {
	p := upstreamPaging{url: func(count, o int) string {
		return (*h).base() + `?_type=Condition&_count=` + strconv.Itoa(count) + `&_offset=` + strconv.Itoa(o)
	}, offset: "_offset", first: true}
	search := p.serve(len(conds), nil, func(from, to int) []string {
		var e []string
		for i := from; i < to; i++ {
			e = append(e, match(conds[i]))
		}
		return e
	})
	linkRE := regexp.MustCompile(`"link":\[[^\]]*\],`)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			search(w, r)
			return
		}
		var b struct {
			Entry []struct {
				Request struct{ URL string } `json:"request"`
			} `json:"entry"`
		}
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var entries []string
		for _, e := range b.Entry {
			rec := httptest.NewRecorder()
			search(rec, httptest.NewRequest(http.MethodGet, "/fhir/R4"+e.Request.URL, nil))
			entries = append(entries, `{"resource":`+linkRE.ReplaceAllString(rec.Body.String(), "")+`,"response":{"status":"200 OK"}}`)
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
	}
}

// TestSystemSearchRefilledQA29E: a search of the system
// (GET [base]?_type=Condition&_count=2), which servers page with links at
// their base, was not refilled: samePage took a link at the base for a
// page of the same search only when it was a handle (HAPI's _getpages),
// so a page that lost a match came out short with a next link ([[c0]
// [c2 c3] [c4]] where a server without c1 answers [[c0 c2] [c3 c4]]),
// and so did the same search as a batch entry answered without links.
func TestSystemSearchRefilledQA29E(t *testing.T) {
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
	h = newHarness(t, systemSearchUpstream(&h, all))
	hv = newHarness(t, systemSearchUpstream(&hv, visible))
	got, want := pagesOf(t, h, "/fhir?_type=Condition&_count=2", tokOther), pagesOf(t, hv, "/fhir?_type=Condition&_count=2", tokOther)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("system search pages %v, on a server without the withheld match %v", got, want)
	}
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"?_type=Condition&_count=2"}}]}`
	resp, out := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
	respV, outV := hv.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
	if resp.StatusCode != respV.StatusCode {
		t.Fatalf("batch: %d, on a server without the withheld match %d (%s | %s)", resp.StatusCode, respV.StatusCode, out, outV)
	}
	if resp.StatusCode != 200 {
		t.Logf("batch: %d both: %s", resp.StatusCode, out)
		return
	}
	if got, want := entryIDsOf(t, out), entryIDsOf(t, outV); !slices.Equal(got, want) {
		t.Errorf("batch entry: %v, on a server without the withheld match %v", got, want)
	}
}

package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// QA round 30 (area F), on cffb020: the next link the upstream writes in
// the searchset answering a batch or transaction entry's search is the
// upstream's page of that search, as a search's own link is. Since cffb020
// only the top-level Bundle's links of a search, history or operation
// count as the upstream's; a batch entry's searchset was read as a stored
// Bundle, its link checked as a caller's request, and a server's paging
// handle (_offset on Medplum and HAPI, _getpages, _cursor) refused there,
// so the page link was dropped and the rest of the entry's matches could
// no longer be reached.
func TestBatchEntrySearchKeepsItsPageLinkQA30F(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"batch", "transaction"} {
		for _, next := range []string{"/Observation?code=1234-5&_count=1&_offset=1", "?_getpages=abc&_getpagesoffset=1", "/Observation?code=1234-5&_cursor=xyz"} {
			var mu sync.Mutex
			var seen []string
			var h *harness
			h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.URL.RawQuery)
				mu.Unlock()
				if r.Method == http.MethodPost {
					set := strings.Replace(searchset(match(plainObs("o1", ""))), `"type":"searchset"`,
						`"type":"searchset","link":[{"relation":"self","url":"`+h.base()+`/Observation?code=1234-5&_count=1"},{"relation":"next","url":"`+h.base()+next+`"}]`, 1)
					fhirJSONHandler(200, batchResponse(typ+"-response", set))(w, r)
					return
				}
				fhirJSONHandler(200, searchset(match(plainObs("o2", ""))))(w, r)
			})
			resp, body := h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batchRequest(typ, "Observation?code=1234-5&_count=1"))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", typ, next, resp.StatusCode, body)
			}
			i := strings.Index(body, "/_page/")
			if i < 0 {
				t.Errorf("%s %s: the entry's searchset lost its next link: %s", typ, next, body)
				continue
			}
			tok := body[i:]
			tok = "/fhir" + tok[:strings.IndexByte(tok, '"')]
			u, _ := url.Parse(tok)
			resp, page := h.get(u.Path, tokAll)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, `"o2"`) {
				t.Errorf("%s %s: following the entry's next link: %d %s", typ, next, resp.StatusCode, page)
			}
		}
	}
}

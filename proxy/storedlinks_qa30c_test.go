package proxy

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// The links of a Bundle someone stored (a Bundle resource written, read
// back or found by a search) are no page links the upstream wrote for the
// request: a caller who may write a Bundle put a link below the upstream's
// base naming DiagnosticReport?study=<withheld id>&_offset=3 in it, read
// it back as a page token, and following the token sent that search to
// the server past the rules that refuse both parameters from a caller (a
// page's query is taken as the upstream's own). Such a link becomes a page
// token only when it passes the rules as the caller's own request would;
// the search's own page links are untouched.
func TestStoredBundleLinksAskAsTheCallerQA30C(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var stored string
	var seen []string
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.URL.Path+"?"+r.URL.RawQuery)
		withID := func() string {
			return strings.Replace(stored, `"resourceType":"Bundle"`, `"resourceType":"Bundle","id":"b1"`, 1)
		}
		switch {
		case r.Method == http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			stored = string(b)
			fhirJSONHandler(201, withID())(w, r)
		case strings.HasSuffix(r.URL.Path, "/Bundle/b1"):
			fhirJSONHandler(200, withID())(w, r)
		case strings.HasSuffix(r.URL.Path, "/Bundle"):
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"`+h.base()+`/Bundle?type=collection"},{"relation":"next","url":"`+h.base()+`/Bundle?type=collection&_offset=1"}],"entry":[{"fullUrl":"x","resource":`+withID()+`,"search":{"mode":"match"}}]}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
		}
	})
	reached := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
	tokens := func(body string) []string {
		var out []string
		for _, part := range strings.Split(body, "/_page/")[1:] {
			out = append(out, "/fhir/_page/"+part[:strings.IndexByte(part, '"')])
		}
		return out
	}
	for _, c := range []struct {
		link string
		keep bool
	}{
		{"/DiagnosticReport?study=sud1", false},       // a plain id in a parameter FHIR R4 does not define
		{"/Condition?code=1234&_offset=3", false},     // the server's own paging
		{"/Condition?_getpages=abc", false},           // another search's handle
		{"/Condition?code=1234&_has:x=1", false},      // refused anyway
		{"/Condition?code=1234", true},                // what the caller may ask
		{"/Encounter?diagnosis=Condition/sud1", true}, // checked when followed, as a caller's
	} {
		crafted := `{"resourceType":"Bundle","type":"collection","link":[{"relation":"next","url":"` + h.base() + c.link + `"}],"entry":[]}`
		resp, posted := h.send(http.MethodPost, "/fhir/Bundle", tokAll, "application/fhir+json", crafted)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST: %d %s", resp.StatusCode, posted)
		}
		_, read := h.get("/fhir/Bundle/b1", tokOther)
		_, found := h.get("/fhir/Bundle?type=collection", tokOther)
		reached()
		var toks []string
		for _, body := range []string{posted, read} {
			toks = append(toks, tokens(body)...)
		}
		foundToks := tokens(found)
		if n := len(foundToks); n != 3 && c.keep || n != 2 && !c.keep {
			t.Errorf("%s: the search of Bundles has %d page links: %s", c.link, n, found)
		}
		toks = append(toks, foundToks[2:]...)
		if c.keep != (len(toks) == 3) {
			t.Errorf("%s: %d page tokens in %s | %s | %s, want them kept: %v", c.link, len(toks), posted, read, found, c.keep)
		}
		for _, tok := range toks {
			u, _ := url.Parse(tok)
			resp, body := h.get(u.Path, tokOther)
			for _, q := range reached() {
				if strings.Contains(q, "study=sud1") || strings.Contains(q, "_offset") || strings.Contains(q, "_getpages") || strings.Contains(q, "diagnosis=Condition/sud1") {
					t.Errorf("%s: following the stored link sent %s (%d %s)", c.link, q, resp.StatusCode, body)
				}
			}
		}
	}
}

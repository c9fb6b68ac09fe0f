package proxy

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// TestSearchOnCutElementOpaquePage: a server whose page links name the
// search by a handle it remembers (HAPI's _getpages, _pageId, cursors)
// writes none of the search's parameters into them, so the next page's
// query read nothing and a cut match there was disclosed, though the
// search selected it on the cut value (value-quantity=gt100: o1's
// withheld value is above 100). Such a page counts every member as read.
//
// The first page is refilled from the next (refill.go), which holds o3,
// cut at its value, and o4: it shows o2 and o4, and o3 stays withheld.
func TestSearchOnCutElementOpaquePage(t *testing.T) {
	t.Parallel()
	for _, next := range []string{
		"?_getpages=4f0a&_getpagesoffset=2&_count=2&_bundletype=searchset",
		"/Observation?_pageId=4f0a",
		"/Observation?_page_token=4f0a",
		"/Observation?_pageToken=4f0a&_count=2",
		"/Observation?_cursor=4f0a",
	} {
		t.Run(next, func(t *testing.T) {
			t.Parallel()
			var h *harness
			h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				body := `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + h.base() + next + `"}],"entry":[` + match(cutObs("o1", "150")) + `,` + match(plainObs("o2", "")) + `]}`
				if r.URL.Query().Get("value-quantity") == "" { // the page the handle names
					body = `{"resourceType":"Bundle","type":"searchset","entry":[` + match(cutObs("o3", "150")) + `,` + match(plainObs("o4", "")) + `]}`
				}
				fhirJSONHandler(200, body)(w, r)
			})
			_, out := h.get("/fhir/Observation?value-quantity=gt100", tokOther)
			if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o2", "o4"}) {
				t.Fatalf("first page: %v: %s", got, out)
			}
			if next := pageLinksOf(t, out)["next"]; next != "" {
				t.Fatalf("a next link after the last match: %s", out)
			}
			// Without refill (a budget of one upstream page) the caller
			// follows the handle's page link itself: o3 stays withheld.
			var h1 *harness
			h1 = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				body := `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + h1.base() + next + `"}],"entry":[` + match(cutObs("o1", "150")) + `,` + match(plainObs("o2", "")) + `]}`
				if r.URL.Query().Get("value-quantity") == "" {
					body = `{"resourceType":"Bundle","type":"searchset","entry":[` + match(cutObs("o3", "150")) + `,` + match(plainObs("o4", "")) + `]}`
				}
				fhirJSONHandler(200, body)(w, r)
			}, func(o *Options, _ *Deps) { o.Requests.RefillPages = 1 })
			_, out = h1.get("/fhir/Observation?value-quantity=gt100", tokOther)
			link := pageLinksOf(t, out)["next"]
			if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o2"}) || link == "" {
				t.Fatalf("first page, no refill: %v: %s", got, out)
			}
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			resp, out := h1.get(u.RequestURI(), tokOther)
			if got, _ := searchIDs(t, out); resp.StatusCode != http.StatusOK || !slices.Equal(got, []string{"o4"}) {
				t.Errorf("next page: %d %v: %s", resp.StatusCode, got, out)
			}
		})
	}
}

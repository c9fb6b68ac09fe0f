package proxy

import (
	"encoding/json"
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
				fhirJSONHandler(200, body)(w, r)
			})
			_, out := h.get("/fhir/Observation?value-quantity=gt100", tokOther)
			if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o2"}) {
				t.Fatalf("first page: %v: %s", got, out)
			}
			var b struct {
				Link []struct{ Relation, URL string } `json:"link"`
			}
			_ = json.Unmarshal([]byte(out), &b)
			if len(b.Link) == 0 {
				t.Fatalf("no next link: %s", out)
			}
			u, err := url.Parse(b.Link[0].URL)
			if err != nil {
				t.Fatal(err)
			}
			resp, out := h.get(u.RequestURI(), tokOther)
			if got, _ := searchIDs(t, out); resp.StatusCode != http.StatusOK || !slices.Equal(got, []string{"o2"}) {
				t.Errorf("next page: %d %v: %s", resp.StatusCode, got, out)
			}
		})
	}
}

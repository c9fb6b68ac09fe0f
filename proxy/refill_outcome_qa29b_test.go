package proxy

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// outcomeEntry is a search's OperationOutcome entry, as servers write one
// for a warning about the search.
const outcomeEntry = `{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"informational","diagnostics":"the search was run"}]},"search":{"mode":"outcome"}}`

// pageShapes follows a search's pages through the proxy and describes
// each: its match ids, then "+OO" for each OperationOutcome entry.
func pageShapes(t *testing.T, h *harness, path, token string) []string {
	t.Helper()
	var out []string
	for i := 0; path != ""; i++ {
		if i > 20 {
			t.Fatalf("more than 20 pages")
		}
		resp, body := h.get(path, token)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var b struct {
			Entry []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
					ID           string `json:"id"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, e := range b.Entry {
			switch e.Resource.ResourceType {
			case "OperationOutcome":
				parts = append(parts, "+OO")
			case "Condition":
				parts = append(parts, e.Resource.ID)
			}
		}
		out = append(out, strings.Join(parts, " "))
		path = ""
		if next := pageLinksOf(t, body)["next"]; next != "" {
			u, err := url.Parse(next)
			if err != nil {
				t.Fatal(err)
			}
			path = u.RequestURI()
		}
	}
	return out
}

// TestRefillKeepsTheSearchOutcomeQA29B: a page refilled from several
// upstream pages carries the search's outcome entry as the same page of a
// server without the withheld matches does, also when the upstream page
// that carried it had none of its matches disclosed. Before, the outcome
// went only with an upstream page whose window showed a match: a search
// whose first upstream page's matches were all withheld (or all of whose
// matches were) answered without the server's warning, where the same
// search without them carried it, which told that matches were withheld.
func TestRefillKeepsTheSearchOutcomeQA29B(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		withheld  map[int]bool
		n         int
		firstOnly bool
	}{
		{"first page withheld, outcome on the first page only", map[int]bool{0: true}, 3, true},
		{"first page withheld, outcome on every page", map[int]bool{0: true}, 3, false},
		{"all withheld, outcome on every page", map[int]bool{0: true, 1: true, 2: true}, 3, false},
		{"all withheld, outcome on the first page only", map[int]bool{0: true, 1: true, 2: true}, 3, true},
	} {
		var all, visible []string
		for i := range tc.n {
			c := refillCond("c"+strconv.Itoa(i), tc.withheld[i])
			all = append(all, c)
			if !tc.withheld[i] {
				visible = append(visible, c)
			}
		}
		serve := func(h **harness, conds []string) *harness {
			p := upstreamPaging{url: func(count, o int) string {
				return (*h).base() + `/Condition?subject=Patient/p1&_count=` + strconv.Itoa(count) + `&_offset=` + strconv.Itoa(o)
			}, offset: "_offset"}
			*h = newHarness(t, p.serve(len(conds), nil, func(from, to int) []string {
				var entries []string
				for i := from; i < to; i++ {
					entries = append(entries, match(conds[i]))
				}
				if from == 0 || !tc.firstOnly {
					entries = append(entries, outcomeEntry)
				}
				return entries
			}))
			return *h
		}
		var h, hv *harness
		serve(&h, all)
		serve(&hv, visible)
		got := pageShapes(t, h, "/fhir/Condition?subject=Patient/p1&_count=1", tokOther)
		want := pageShapes(t, hv, "/fhir/Condition?subject=Patient/p1&_count=1", tokOther)
		if !slices.Equal(got, want) {
			t.Errorf("%s: pages %q, want %q (as on a server without the withheld matches)", tc.name, got, want)
		}
	}
}

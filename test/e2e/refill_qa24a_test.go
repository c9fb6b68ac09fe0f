package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func init() { register("PageRefillQA24a", testPageRefillQA24a) }

// testPageRefillQA24a: on Medplum, a caller without consent pages through
// a search with _include (each Condition's asserter), by GET and by POST
// _search, exactly as through the same search over only the ordinary
// Conditions: the same Conditions on each page and the same includes, no
// include of a Condition shown on another page (which told where the
// server's page began, so how many matches before it were withheld).
func testPageRefillQA24a(t *testing.T, e *env) {
	cond := func(set string, i int, sud bool) []byte {
		n := strconv.Itoa(i)
		return pagedCondition("qa24a", set, i, sud, "2023-02", `"asserter":{"reference":"Practitioner/qa24a-pr-`+set+`-`+n+`"},`)
	}
	pract := func(set string, i int) []byte {
		n := strconv.Itoa(i)
		return []byte(`{"resourceType":"Practitioner","id":"qa24a-pr-` + set + `-` + n + `","name":[{"family":"Asserter` + n + `"}]}`)
	}
	withheld := map[int]bool{1: true, 4: true, 5: true, 6: true}
	var resources [][]byte
	for i := range 9 {
		resources = append(resources, pract("a", i), cond("a", i, withheld[i]))
		if !withheld[i] {
			resources = append(resources, pract("b", i), cond("b", i, false))
		}
	}
	e.upstream.Put(t, resources...)
	query := func(set string) string {
		return "subject=" + sudPatient + "&category=http://ds4p.test/qa24a-refill|" + set + "&_sort=onset-date&_count=2&_include=Condition:asserter"
	}
	// pages returns each page's Conditions (their onset dates) and, after
	// a "|", the family names of its includes, sorted.
	pages := func(set string, post bool) [][]string {
		t.Helper()
		var out [][]string
		path := "/fhir/Condition?" + query(set)
		for n := 0; path != ""; n++ {
			if n > 12 {
				t.Fatalf("%s: more than 12 pages", set)
			}
			var r response
			if post && n == 0 {
				r = e.do(t, http.MethodPost, "/fhir/Condition/_search", e.tokens["other"], strings.NewReader(query(set)), "Content-Type", "application/x-www-form-urlencoded")
			} else {
				r = e.get(t, path, "other")
			}
			if r.Status != http.StatusOK {
				t.Fatalf("%s page %d: %d %s", set, n, r.Status, r.Body)
			}
			mustNotContain(t, set+" page", r, "F11.20", "Asserter1", "Asserter4", "Asserter5", "Asserter6")
			b := r.json(t)
			var dates, incs []string
			entries, _ := b["entry"].([]any)
			for _, en := range entries {
				res, _ := en.(map[string]any)["resource"].(map[string]any)
				switch res["resourceType"] {
				case "Condition":
					d, _ := res["onsetDateTime"].(string)
					dates = append(dates, d)
				case "Practitioner":
					names, _ := res["name"].([]any)
					if len(names) > 0 {
						f, _ := names[0].(map[string]any)["family"].(string)
						incs = append(incs, f)
					}
				}
			}
			slices.Sort(incs)
			out = append(out, append(append(dates, "|"), incs...))
			path = ""
			links, _ := b["link"].([]any)
			for _, l := range links {
				m, _ := l.(map[string]any)
				switch m["relation"] {
				case "next":
					u, err := url.Parse(m["url"].(string))
					if err != nil {
						t.Fatal(err)
					}
					path = u.RequestURI()
				case "previous", "prev", "last":
					t.Errorf("%s page %d keeps the server's %v link", set, n, m["relation"])
				}
			}
		}
		return out
	}
	want := pages("b", false)
	if len(want) < 3 {
		t.Fatalf("pages %v: want three or more", want)
	}
	for _, post := range []bool{false, true} {
		if got := pages("a", post); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("POST %v: pages with withheld matches %v, want %v (as over the ordinary ones alone)", post, got, want)
		}
	}
}

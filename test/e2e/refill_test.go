package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
)

func init() { register("PageRefill", testPageRefill) }

// testPageRefill: a caller without consent pages through a search whose
// matches are partly withheld (Part 2 Conditions) exactly as through the same
// search over only the ordinary ones: the same dates on each page of two,
// no short page, no previous or last link. Before refill (README
// "Pages are refilled") the first page held one Condition and a later one
// none, telling where a withheld match stood in the sort.
func testPageRefill(t *testing.T, e *env) {
	cond := func(set string, i int, sud bool) []byte {
		return pagedCondition("qa23", set, i, sud, "2023-01", "")
	}
	withheld := map[int]bool{1: true, 4: true, 5: true, 6: true}
	var resources [][]byte
	for i := range 9 {
		resources = append(resources, cond("a", i, withheld[i]))
		if !withheld[i] {
			resources = append(resources, cond("b", i, false))
		}
	}
	e.upstream.Put(t, resources...)
	pages := func(set, caller string) [][]string {
		t.Helper()
		path := "/fhir/Condition?subject=" + sudPatient + "&category=http://ds4p.test/qa23-refill|" + set + "&_sort=onset-date&_count=2"
		var out [][]string
		for n := 0; path != ""; n++ {
			if n > 12 {
				t.Fatalf("%s: more than 12 pages", set)
			}
			r := e.get(t, path, caller)
			if r.Status != http.StatusOK {
				t.Fatalf("%s page %d: %d %s", set, n, r.Status, r.Body)
			}
			b := r.json(t)
			var dates []string
			entries, _ := b["entry"].([]any)
			for _, en := range entries {
				res, _ := en.(map[string]any)["resource"].(map[string]any)
				if res["resourceType"] == "Condition" {
					d, _ := res["onsetDateTime"].(string)
					dates = append(dates, d)
				}
			}
			out = append(out, dates)
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
			if caller == "other" {
				mustNotContain(t, set+" page", r, "F11.20")
			}
		}
		return out
	}
	got, want := pages("a", "other"), pages("b", "other")
	// The server may end with an empty page when the last one was full:
	// the same on both sides, since the windows are the same.
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("pages with withheld matches %v, want %v (as over the ordinary ones alone)", got, want)
	}
	if len(got) < 3 || len(got[0]) != 2 || len(got[1]) != 2 {
		t.Fatalf("pages %v: want full pages of two", got)
	}
	// The consented caller pages through all nine.
	n := 0
	for _, p := range pages("a", "consented") {
		n += len(p)
	}
	if n != 9 {
		t.Errorf("the consented caller paged through %d Conditions, want 9", n)
	}
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// pagedCondition is Condition <prefix>-<set>-<i> of sudPatient, in category
// <set> of http://ds4p.test/<prefix>-refill, with onset <month>-<i+1>: a
// Part 2 program's record (labelled so by its source) when sud, else an
// ordinary one. extra holds more members, each ending in a comma.
func pagedCondition(prefix, set string, i int, sud bool, month, extra string) []byte {
	code, meta := `{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E78.5","display":"Hyperlipidemia"}`, ""
	if sud {
		code = `{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20","display":"Opioid dependence"}`
		meta = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},`
	}
	return []byte(`{"resourceType":"Condition","id":"` + prefix + `-` + set + `-` + strconv.Itoa(i) + `",` + meta + `"subject":{"reference":"` + sudPatient + `"},` + extra +
		`"category":[{"coding":[{"system":"http://ds4p.test/` + prefix + `-refill","code":"` + set + `"}]}],"code":{"coding":[` + code + `]},` +
		`"onsetDateTime":"` + month + `-` + twoDigits(i+1) + `"}`)
}

package proxy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// QA round 22 (area E): searches on elements cut from a disclosed match.
// The server matches, sorts and tests :missing on the stored resource:
// Observation?value-quantity=gt100 answered the Observation whose value
// (inline-labelled HIV, cut for a caller without consent) is above 100, and
// not the one whose value is below, so the cut match itself told the value.

// cutObs is an Observation of p1 whose value carries an inline HIV label.
func cutObs(id, value string) string {
	return `{"resourceType":"Observation","id":"` + id + `",` + processInlineMeta + `,"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-01",` +
		`"valueQuantity":{"value":` + value + `,"unit":"mg",` + inlineLabel("HIV") + `}}`
}

func plainObs(id, extra string) string {
	return `{"resourceType":"Observation","id":"` + id + `","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-01-02","valueQuantity":{"value":7,"unit":"mg"}` + extra + `}`
}

func searchset(entries ...string) string {
	return `{"resourceType":"Bundle","type":"searchset","total":` + itoa(countMatches(entries)) + `,"entry":[` + strings.Join(entries, ",") + `]}`
}

func match(res string) string   { return `{"resource":` + res + `,"search":{"mode":"match"}}` }
func include(res string) string { return `{"resource":` + res + `,"search":{"mode":"include"}}` }

func countMatches(entries []string) int {
	n := 0
	for _, e := range entries {
		if strings.Contains(e, `"mode":"match"`) {
			n++
		}
	}
	return n
}

// ids returns the ids of the entries of a searchset and its total.
func searchIDs(t *testing.T, body string) ([]string, *int) {
	t.Helper()
	var b struct {
		Total *int `json:"total"`
		Entry []struct {
			Resource struct {
				ID string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, e := range b.Entry {
		out = append(out, e.Resource.ID)
	}
	return out, b.Total
}

func TestSearchOnCutElement(t *testing.T) {
	t.Parallel()
	body := searchset(match(cutObs("o1", "150")), match(plainObs("o2", "")))
	h := newHarness(t, fhirJSONHandler(200, body))
	for _, c := range []struct {
		query string
		want  []string // ids answered to the caller without consent
	}{
		// the query reads the cut value: the cut match is withheld
		{"value-quantity=gt100", []string{"o2"}},
		{"value-quantity=lt100", []string{"o2"}},
		{"value-quantity:missing=false", []string{"o2"}},
		{"_sort=value-quantity", []string{"o2"}},
		{"_sort=-date,value-quantity", []string{"o2"}},
		{"combo-value-quantity=gt100", []string{"o2"}},       // value and component
		{"code-value-quantity=1234-5$gt100", []string{"o2"}}, // a composite reads the whole resource
		{"x-custom=a%20b", []string{"o2"}},                   // unknown: every member
		// it does not: disclosed, cut
		{"code=1234-5", []string{"o1", "o2"}},
		{"_sort=-date", []string{"o1", "o2"}},
		{"code:missing=false&_count=10", []string{"o1", "o2"}},
		{"_id=o1,o2&_lastUpdated=gt2020", []string{"o1", "o2"}},
		{"component-value-quantity=gt100", []string{"o1", "o2"}},
	} {
		resp, out := h.get("/fhir/Observation?patient=p1&"+c.query, tokOther)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.query, resp.StatusCode, out)
		}
		got, total := searchIDs(t, out)
		if !slices.Equal(got, c.want) || total == nil || *total != len(c.want) {
			t.Errorf("%s: %v total %v, want %v", c.query, got, total, c.want)
		}
		if strings.Contains(out, "150") {
			t.Errorf("%s: the cut value is there: %s", c.query, out)
		}
		if slices.Contains(got, "o1") && !strings.Contains(out, `"REDACTED"`) {
			t.Errorf("%s: o1 disclosed without REDACTED: %s", c.query, out)
		}
		// the consented caller sees both, whole
		if _, out := h.get("/fhir/Observation?patient=p1&"+c.query, tokConsented); !strings.Contains(out, "150") {
			t.Errorf("%s: the consented caller lost o1: %s", c.query, out)
		}
	}
	// the ledger records o1 withheld, and why
	found := false
	for _, e := range h.ledger.entries {
		for _, it := range e.Withheld {
			if it.ID == "o1" && slices.Contains(it.Reasons, "search-on-cut-element") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no ledger entry withholds o1 for search-on-cut-element: %+v", h.ledger.entries)
	}
}

// TestSearchOnCutElementCompartment: a compartment search selects on the
// references to the compartment's resource: a match whose subject was cut
// was selected on it; one whose value was cut, on a filter not reading it,
// stays.
func TestSearchOnCutElementCompartment(t *testing.T) {
	t.Parallel()
	cutSubject := `{"resourceType":"Observation","id":"o3",` + processInlineMeta + `,"status":"final","code":{"text":"x"},"performer":[{"reference":"Patient/p1",` + inlineLabel("HIV") + `}],"subject":{"reference":"Patient/p1"}}`
	bundle := fhirJSONHandler(200, searchset(match(cutObs("o1", "150")), match(cutSubject)))
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Patient/p1") {
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		bundle(w, r)
	})
	_, out := h.get("/fhir/Patient/p1/Observation?code=1234-5", tokOther)
	if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o1"}) {
		t.Errorf("compartment search: %v, want [o1]: %s", got, out)
	}
	_, out = h.get("/fhir/Observation?subject=Patient/p1", tokOther)
	if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o1", "o3"}) {
		t.Errorf("type search: %v, want [o1 o3]: %s", got, out)
	}
}

// TestSearchOnCutElementUnknownQuery: a POST _search is read as its URL
// query and its form merged (the server merges them); a searchset inside a
// batch-response is judged by its entry's own url query (QA round 23:
// every member counted; cutsearch_batch_qa23c_test.go).
func TestSearchOnCutElementUnknownQuery(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, searchset(match(cutObs("o1", "150")), match(plainObs("o2", "")))))
	for _, c := range []struct {
		path, form string
		want       []string
	}{
		{"/fhir/Observation/_search", "code=1234-5", []string{"o1", "o2"}},
		{"/fhir/Observation/_search", "code=1234-5&value-quantity=gt100", []string{"o2"}},
		{"/fhir/Observation/_search?value-quantity=gt100", "code=1234-5", []string{"o2"}},
		{"/fhir/Observation/_search?code=1234-5", "_sort=value-quantity", []string{"o2"}},
		{"/fhir/Observation/_search?code=1234-5", "", []string{"o1", "o2"}},
	} {
		resp, out := h.do("POST", c.path, tokOther, "application/x-www-form-urlencoded", c.form)
		if got, _ := searchIDs(t, out); resp.StatusCode != 200 || !slices.Equal(got, c.want) {
			t.Errorf("POST %s %q: %d %v, want %v: %s", c.path, c.form, resp.StatusCode, got, c.want, out)
		}
	}
	batch := `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":` + searchset(match(cutObs("o1", "150")), match(plainObs("o2", ""))) + `,"response":{"status":"200 OK"}}]}`
	hb := newHarness(t, fhirJSONHandler(200, batch))
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation?value-quantity=gt100"}}]}`
	resp, out := hb.do("POST", "/fhir", tokOther, "application/fhir+json", req)
	if resp.StatusCode != 200 || strings.Contains(out, `"o1"`) || !strings.Contains(out, `"o2"`) {
		t.Errorf("batch: %d %s", resp.StatusCode, out)
	}
}

// TestSearchOnCutElementPage: the query of an upstream page counts, on a
// page the proxy refilled from it (refill.go) as on a page link's: o1 and
// o4 match only on their cut values, so the first page of two takes o2
// and, from the upstream's next page, o3; o5 is left for the next page.
func TestSearchOnCutElementPage(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		var body string
		if r.URL.Query().Get("_offset") == "2" {
			body = `{"resourceType":"Bundle","type":"searchset","entry":[` + match(cutObs("o4", "150")) + `,` + match(plainObs("o3", "")) + `,` + match(plainObs("o5", "")) + `]}`
		} else {
			next := h.base() + "/Observation?value-quantity=gt100&_offset=2"
			body = `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + next + `"}],"entry":[` + match(cutObs("o1", "150")) + `,` + match(plainObs("o2", "")) + `]}`
		}
		fhirJSONHandler(200, body)(w, r)
	})
	_, out := h.get("/fhir/Observation?value-quantity=gt100", tokOther)
	if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o2", "o3"}) {
		t.Fatalf("first page: %v: %s", got, out)
	}
	next := pageLinksOf(t, out)["next"]
	if next == "" {
		t.Fatalf("no next link: %s", out)
	}
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	_, out = h.get(u.RequestURI(), tokOther)
	if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o5"}) {
		t.Errorf("next page: %v: %s", got, out)
	}
	if l := pageLinksOf(t, out); l["next"] != "" {
		t.Errorf("a next link after the last match: %v", l)
	}
}

// TestIncludeThroughCutLink: an include entry the server added because of a
// reference cut from a disclosed match showed the withheld link (which
// Observation the cut hasMember named). It goes, as an include only a
// withheld match references does; one a visible reference brought stays.
func TestIncludeThroughCutLink(t *testing.T) {
	t.Parallel()
	cutLink := `{"resourceType":"Observation","id":"o3",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},"hasMember":[{"reference":"Observation/o9",` + inlineLabel("HIV") + `},{"reference":"Observation/o8"}]}`
	cutTwin := `{"resourceType":"Observation","id":"o4",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},"hasMember":[{"reference":"Observation/o7","_reference":{` + inlineLabel("HIV") + `}}]}`
	// o5 refers to o9 too, in a member _include does not follow: that
	// does not explain o9's inclusion, o3's cut hasMember does.
	other := `{"resourceType":"Observation","id":"o5","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"derivedFrom":[{"reference":"Observation/o9"}]}`
	body := searchset(match(cutLink), match(cutTwin), match(other), include(plainObs("o9", "")), include(plainObs("o8", "")), include(plainObs("o7", "")))
	h := newHarness(t, fhirJSONHandler(200, body))
	q := "/fhir/Observation?patient=p1&_include=Observation:has-member"
	resp, out := h.get(q, tokOther)
	got, _ := searchIDs(t, out)
	if resp.StatusCode != 200 || !slices.Equal(got, []string{"o3", "o4", "o5", "o8"}) {
		t.Errorf("%d %v, want [o3 o4 o5 o8]: %s", resp.StatusCode, got, out)
	}
	// following derivedFrom, o9 is explained by o5
	_, out = h.get("/fhir/Observation?patient=p1&_include=Observation:derived-from", tokOther)
	if got, _ := searchIDs(t, out); !slices.Equal(got, []string{"o3", "o4", "o5", "o9"}) {
		t.Errorf("derived-from: %v, want [o3 o4 o5 o9]: %s", got, out)
	}
	if _, out := h.get(q, tokConsented); !strings.Contains(out, `"o9"`) || !strings.Contains(out, `"o7"`) {
		t.Errorf("the consented caller lost an include: %s", out)
	}
}

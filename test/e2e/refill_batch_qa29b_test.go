package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func init() { register("BatchEntryRefillQA29B", testBatchEntryRefill) }

// testBatchEntryRefill: a batch entry's search whose matches are partly
// withheld pages as the same search over only the ordinary ones, through
// Medplum: the page inside the batch's answer and the pages its next link
// leads to, when the server writes one (QA round 29, area B). Medplum
// writes no links in a batch's answer: before, the batch's page held one
// Condition of two where the same search over the ordinary ones held two.
func testBatchEntryRefill(t *testing.T, e *env) {
	cond := func(set string, i int, sud bool) []byte {
		return pagedCondition("qa29b", set, i, sud, "2023-03", "")
	}
	withheld := map[int]bool{1: true, 4: true, 5: true}
	var resources [][]byte
	for i := range 8 {
		resources = append(resources, cond("a", i, withheld[i]))
		if !withheld[i] {
			resources = append(resources, cond("b", i, false))
		}
	}
	e.upstream.Put(t, resources...)
	pages := func(set, caller string) [][]string {
		t.Helper()
		search := "Condition?subject=" + sudPatient + "&category=http://ds4p.test/qa29b-refill|" + set + "&_sort=onset-date&_count=2"
		req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + search + `"}}]}`
		r := e.do(t, http.MethodPost, "/fhir", e.tokens[caller], bytes.NewReader([]byte(req)), "Content-Type", "application/fhir+json")
		if r.Status != http.StatusOK {
			t.Fatalf("%s batch: %d %s", set, r.Status, r.Body)
		}
		var batch struct {
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(r.Body, &batch); err != nil || len(batch.Entry) != 1 {
			t.Fatalf("%s batch answer: %v %s", set, err, r.Body)
		}
		body := []byte(batch.Entry[0].Resource)
		var out [][]string
		for n := 0; ; n++ {
			if n > 12 {
				t.Fatalf("%s: more than 12 pages", set)
			}
			var b struct {
				Link  []struct{ Relation, URL string }
				Entry []struct {
					Resource struct {
						ResourceType  string `json:"resourceType"`
						OnsetDateTime string `json:"onsetDateTime"`
					} `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatalf("%s page %d: %v %s", set, n, err, body)
			}
			if caller == "other" && bytes.Contains(body, []byte("F11.20")) {
				t.Errorf("%s page %d shows a withheld Condition", set, n)
			}
			var dates []string
			for _, en := range b.Entry {
				if en.Resource.ResourceType == "Condition" {
					dates = append(dates, en.Resource.OnsetDateTime)
				}
			}
			out = append(out, dates)
			path := ""
			for _, l := range b.Link {
				switch l.Relation {
				case "next":
					u, err := url.Parse(l.URL)
					if err != nil {
						t.Fatal(err)
					}
					path = u.RequestURI()
				case "previous", "prev", "last":
					t.Errorf("%s page %d keeps the server's %s link", set, n, l.Relation)
				}
			}
			if path == "" {
				return out
			}
			r := e.get(t, path, caller)
			if r.Status != http.StatusOK {
				t.Fatalf("%s page %d: %d %s", set, n+1, r.Status, r.Body)
			}
			body = r.Body
		}
	}
	got, want := pages("a", "other"), pages("b", "other")
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("a batch entry's pages with withheld matches %v, want %v (as over the ordinary ones alone)", got, want)
	}
	// Medplum answers a batch entry's search with its first page and no
	// links: the page must be full all the same.
	if len(got[0]) != 2 {
		t.Fatalf("pages %v: want a full first page of two", got)
	}
	n := 0
	cp := pages("a", "consented")
	for _, p := range cp {
		n += len(p)
	}
	if n != 8 && (len(cp) != 1 || n != 2) {
		t.Errorf("the consented caller's pages %v", cp)
	}
}

package proxy

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// QA round 23 (area C): a batch or transaction entry's search is read as
// its own url query. Every member of every batch search counted as read,
// so a cut match of Observation?code=x in a batch was withheld though the
// search never read the cut value.

// batchResponse is a batch-response (or transaction-response) whose
// entries hold the searchsets given.
func batchResponse(typ string, sets ...string) string {
	var es []string
	for _, s := range sets {
		es = append(es, `{"resource":`+s+`,"response":{"status":"200 OK"}}`)
	}
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(es, ",") + `]}`
}

// batchRequest is a batch (or transaction) of GET entries.
func batchRequest(typ string, urls ...string) string {
	var es []string
	for _, u := range urls {
		es = append(es, `{"request":{"method":"GET","url":"`+u+`"}}`)
	}
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(es, ",") + `]}`
}

// nestedIDs returns, for each entry of a batch-response, the ids of its
// searchset's entries and its total.
func nestedIDs(t *testing.T, body string) ([][]string, []int) {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var ids [][]string
	var totals []int
	for _, e := range b.Entry {
		got, total := searchIDs(t, string(e.Resource))
		ids = append(ids, got)
		if total == nil {
			totals = append(totals, -1)
		} else {
			totals = append(totals, *total)
		}
	}
	return ids, totals
}

func TestSearchOnCutElementBatchEntries(t *testing.T) {
	t.Parallel()
	set := searchset(match(cutObs("o1", "150")), match(plainObs("o2", "")))
	both, o2 := []string{"o1", "o2"}, []string{"o2"}
	for _, c := range []struct {
		name  string
		typ   string // batch or transaction
		urls  []string
		sets  int // searchsets the upstream answers with
		want  [][]string
		extra string // a request entry put first, not a search
	}{
		{"each entry by its own query", "batch",
			[]string{"Observation?code=1234-5", "Observation?value-quantity=gt100", "Observation?_sort=value-quantity", "Observation?code=1234-5&_count=5"},
			4, [][]string{both, o2, o2, both}, ""},
		{"a transaction too", "transaction",
			[]string{"Observation?value-quantity=gt100", "/Observation?patient=p1"},
			2, [][]string{o2, both}, ""},
		{"a parameter the table does not know reads every member", "batch",
			[]string{"Observation?x-custom=a%20b", "Observation?code=1234-5"},
			2, [][]string{o2, both}, ""},
		{"an include: every member, as includes.go reads the response's query only", "batch",
			[]string{"Observation?code=1234-5&_include=Observation:performer", "Observation?code=1234-5"},
			2, [][]string{o2, both}, ""},
		{"a match of another type than the entry searched", "batch",
			[]string{"Condition?code=1234-5", "Observation?code=1234-5"},
			2, [][]string{o2, both}, ""},
		{"a system search reads by the match's type", "batch",
			[]string{"?_type=Observation&code=1234-5", "?_type=Observation&value-quantity=gt100"},
			2, [][]string{both, o2}, ""},
		{"the answer has fewer entries than the request: every member", "batch",
			[]string{"Observation?code=1234-5", "Observation?code=1234-5"},
			1, [][]string{o2}, ""},
		{"entries answer by position", "batch",
			[]string{"Observation?value-quantity=gt100", "Observation?code=1234-5"},
			2, [][]string{o2, both}, `{"request":{"method":"GET","url":"Observation?value-quantity=gt100"}},`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n := c.sets
			if c.extra != "" {
				n++
			}
			sets := make([]string, n)
			for i := range sets {
				sets[i] = set
			}
			h := newHarness(t, fhirJSONHandler(200, batchResponse(c.typ+"-response", sets...)))
			req := batchRequest(c.typ, c.urls...)
			if c.extra != "" {
				req = strings.Replace(req, `"entry":[`, `"entry":[`+c.extra, 1)
			}
			resp, out := h.do("POST", "/fhir", tokOther, "application/fhir+json", req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, out)
			}
			ids, totals := nestedIDs(t, out)
			if c.extra != "" {
				if !slices.Equal(ids[0], o2) {
					t.Errorf("the first entry (value-quantity=gt100): %v", ids[0])
				}
				ids, totals = ids[1:], totals[1:]
			}
			if len(ids) != len(c.want) {
				t.Fatalf("%d entries, want %d: %s", len(ids), len(c.want), out)
			}
			for i := range c.want {
				if !slices.Equal(ids[i], c.want[i]) || totals[i] != len(c.want[i]) {
					t.Errorf("entry %d (%s): %v total %d, want %v", i, c.urls[min(i, len(c.urls)-1)], ids[i], totals[i], c.want[i])
				}
			}
			if strings.Contains(out, "150") {
				t.Errorf("the cut value is there: %s", out)
			}
		})
	}
}

// TestSearchOnCutElementBatchInclude: a searchset of a batch entry holding
// an include entry counts every member of its cut matches (includes.go
// keeps an include whenever a disclosed match refers to it, which in the
// response's own searchset it does only through the members the query's
// _include follows).
func TestSearchOnCutElementBatchInclude(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1"}`
	set := searchset(match(cutObs("o1", "150")), match(plainObs("o2", "")), include(pat))
	h := newHarness(t, fhirJSONHandler(200, batchResponse("batch-response", set)))
	resp, out := h.do("POST", "/fhir", tokOther, "application/fhir+json", batchRequest("batch", "Observation?code=1234-5"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if ids, _ := nestedIDs(t, out); len(ids) != 1 || slices.Contains(ids[0], "o1") || !slices.Contains(ids[0], "o2") {
		t.Errorf("%v: %s", ids, out)
	}
}

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
		{"an include parameter reads nothing", "batch",
			[]string{"Observation?code=1234-5&_include=Observation:performer", "Observation?value-quantity=gt100&_revinclude=Provenance:target"},
			2, [][]string{both, o2}, ""},
		{"an include of every source (*): every member", "batch",
			[]string{"Observation?code=1234-5&_include=*", "Observation?code=1234-5"},
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

// TestSearchOnCutElementBatchInclude: the searchset of a batch entry that
// holds includes is judged by the entry's own query, its includes by the
// members the entry's _include and _revinclude follow, as in the
// response's own searchset (TestIncludeThroughCutLink). Every member of
// its cut matches counted as read before, and with it whatever
// reference brought an include.
func TestSearchOnCutElementBatchInclude(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1"}`
	// o3's hasMember to o9 is cut; o5 refers to o9 in derivedFrom, which
	// does not explain o9 as an include of has-member
	cutLink := `{"resourceType":"Observation","id":"o3",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},"hasMember":[{"reference":"Observation/o9",` + inlineLabel("HIV") + `},{"reference":"Observation/o8"}]}`
	other := `{"resourceType":"Observation","id":"o5","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"derivedFrom":[{"reference":"Observation/o9"}]}`
	panels := searchset(match(cutLink), match(other), include(plainObs("o9", "")), include(plainObs("o8", "")))
	withPatient := searchset(match(cutObs("o1", "150")), match(plainObs("o2", "")), include(pat))
	for _, c := range []struct {
		name string
		urls []string
		sets []string
		want [][]string
	}{
		{"the include its own query asked for stays", []string{"Observation?code=1234-5&_include=Observation:patient"},
			[]string{withPatient}, [][]string{{"o1", "o2", "p1"}}},
		{"an include the query did not ask for goes", []string{"Observation?code=1234-5"},
			[]string{withPatient}, [][]string{{"o1", "o2"}}},
		{"a match cut where it was selected goes, its include stays for the other", []string{"Observation?value-quantity=gt100&_include=Observation:patient"},
			[]string{withPatient}, [][]string{{"o2", "p1"}}},
		{"an include only a cut link brought goes", []string{"Observation?patient=p1&_include=Observation:has-member", "Observation?patient=p1&_include=Observation:derived-from"},
			[]string{panels, panels}, [][]string{{"o3", "o5", "o8"}, {"o3", "o5", "o9"}}},
		{"each entry by its own includes", []string{"Observation?patient=p1&_include=Observation:derived-from", "Observation?patient=p1&_include=Observation:has-member"},
			[]string{panels, panels}, [][]string{{"o3", "o5", "o9"}, {"o3", "o5", "o8"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, batchResponse("batch-response", c.sets...)))
			resp, out := h.do("POST", "/fhir", tokOther, "application/fhir+json", batchRequest("batch", c.urls...))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, out)
			}
			ids, _ := nestedIDs(t, out)
			if len(ids) != len(c.want) {
				t.Fatalf("%d entries, want %d: %s", len(ids), len(c.want), out)
			}
			for i := range c.want {
				got := slices.Clone(ids[i])
				slices.Sort(got)
				if !slices.Equal(got, c.want[i]) {
					t.Errorf("entry %d (%s): %v, want %v", i, c.urls[i], got, c.want[i])
				}
			}
			if strings.Contains(out, "150") {
				t.Errorf("the cut value is there: %s", out)
			}
		})
	}
}

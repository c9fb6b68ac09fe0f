package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// $lastn is a search of Observations: a focus naming a withheld Condition
// is sent as one naming a missing Condition, so which Observations match
// does not show that the Condition exists; in a batch such an entry is
// refused as a search by it is.
func TestLastnReferencesCheckedAsASearch(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lastnQuery string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch rest := strings.TrimPrefix(r.URL.Path, "/fhir/R4/"); rest {
		case "Observation/$lastn":
			q, _ := url.QueryUnescape(r.URL.RawQuery)
			mu.Lock()
			lastnQuery = q
			mu.Unlock()
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
		case "Condition/sud1":
			fhirJSONHandler(200, sudCondition)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	})
	sent := func() string {
		mu.Lock()
		defer mu.Unlock()
		q := lastnQuery
		lastnQuery = ""
		return q
	}
	for _, c := range []struct{ path, tok, want string }{
		{"/fhir/Observation/$lastn?patient=p1&focus=Condition/sud1", tokOther, "focus=Condition/" + noneID + "&patient=p1"},
		{"/fhir/Observation/$lastn?patient=p1&focus=Condition/nope", tokOther, "focus=Condition/" + noneID + "&patient=p1"},
		{"/fhir/Observation/$lastn?patient=p1&focus=Condition/sud1", tokConsented, "patient=p1&focus=Condition/sud1"},
		{"/fhir/Observation/$lastn?patient=p1&max=2", tokOther, "patient=p1&max=2"},
	} {
		resp, body := h.get(c.path, c.tok)
		if q := sent(); resp.StatusCode != http.StatusOK || q != c.want {
			t.Errorf("%s as %s: %d %s; upstream query %q, want %q", c.path, c.tok, resp.StatusCode, body, q, c.want)
		}
	}
	resp, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation/$lastn?focus=Condition/sud1"}}]}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "send it as its own request") {
		t.Errorf("batch $lastn by a reference: %d %s", resp.StatusCode, body)
	}
}

package proxy

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// A POST _search form asking for another format than JSON is refused as
// the same _format in the query is, before it reaches the server.
func TestSearchFormFormatOnlyJSON(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
	})
	for _, form := range []string{"code=1234&_format=html/json", "_format=json&_format=xml", "_format=text/turtle"} {
		resp, body := h.send(http.MethodPost, "/fhir/Observation/_search", tokOther, "application/x-www-form-urlencoded", form)
		if resp.StatusCode != http.StatusNotAcceptable {
			t.Errorf("form %q: %d %s", form, resp.StatusCode, body)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("refused forms reached the server %d times", n)
	}
	if resp, body := h.send(http.MethodPost, "/fhir/Observation/_search", tokOther, "application/x-www-form-urlencoded", "code=1234&_format=application/fhir+json"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a JSON form: %d %s", resp.StatusCode, body)
	}
}

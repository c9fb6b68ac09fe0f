package proxy

import (
	"io"
	"net/http"
	"sync"
	"testing"
)

// QA round 34, area A: a POSTed operation whose Parameters body holds its
// one parameter as an object rather than an array of one (invalid FHIR
// JSON, but a server may read it as the array's one element). The search
// rules read no parameter of it, and Patient/x/$everything POSTed with
// _content=opioid or _count=0 so written reached the server past them. It
// is refused as when written as an array (TestOperationBodyParamsMeetSearchRules),
// before anything reaches the upstream; a parameter the operation takes,
// so written, still goes.
func TestOperationBodyParamObjectQA34A(t *testing.T) {
	t.Parallel()
	const tokAll = "Organization/org-b|TREAT|user/*.*"
	var mu sync.Mutex
	var seen []string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		if r.URL.Path == "/fhir/R4/Patient/p2" {
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p2"}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
	})
	for _, c := range []struct {
		name, body string
		refused    bool
	}{
		{"_content", `{"resourceType":"Parameters","parameter":{"name":"_content","valueString":"opioid"}}`, true},
		{"_count=0", `{"resourceType":"Parameters","parameter":{"name":"_count","valueInteger":0}}`, true},
		{"_content, escaped key", `{"resourceType":"Parameters","p\u0061rameter":{"name":"_content","valueString":"opioid"}}`, true},
		{"_since", `{"resourceType":"Parameters","parameter":{"name":"_since","valueInstant":"2024-01-01T00:00:00Z"}}`, false},
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		resp, body := h.do(http.MethodPost, "/fhir/Patient/p2/$everything", tokAll, "application/fhir+json", c.body)
		mu.Lock()
		reached := seen
		mu.Unlock()
		if c.refused && (resp.StatusCode != http.StatusBadRequest || len(reached) > 0) {
			t.Errorf("%s: %d %s; the upstream saw %q", c.name, resp.StatusCode, body, reached)
		}
		if !c.refused && resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s; want it to go", c.name, resp.StatusCode, body)
		}
	}
}

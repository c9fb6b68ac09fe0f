package proxy

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestPassthroughBareSubjectAndBodyRecordedQA38F: a caller bound to no
// patient calling an operation whose answer passes uninspected
// (passthrough_content_types) may pick the patient with a bare id under
// subject (Observation/$render?subject=p2), which the server may read as
// Patient/p2, or in a POSTed Parameters body (subject as a
// valueReference, patient as a string): each answer was recorded under no
// patient, missing from p2's accounting. The body is bounded as the query
// is (100 patients).
func TestPassthroughBareSubjectAndBodyRecordedQA38F(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if id, ok := strings.CutPrefix(r.URL.Path, "/fhir/R4/Patient/"); ok && !strings.Contains(id, "$") {
			// A reference in the body is read first (guardOperationBody).
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = w.Write([]byte(`{"resourceType":"Patient","id":"` + id + `"}`))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>record</pre></html>"))
	}, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	params := func(ps ...string) string {
		return `{"resourceType":"Parameters","parameter":[` + strings.Join(ps, ",") + `]}`
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf(`{"name":"patient","valueString":"q%d"}`, i)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		want               []string
	}{
		{"GET", "/fhir/Observation/$render?subject=p2", "", 200, []string{"Patient/p2"}},
		{"GET", "/fhir/Observation/$render?subject=p2,Patient/p3", "", 200, []string{"Patient/p2", "Patient/p3"}},
		{"POST", "/fhir/Observation/$render", params(`{"name":"subject","valueReference":{"reference":"Patient/p2"}}`), 200, []string{"Patient/p2"}},
		{"POST", "/fhir/Observation/$render", params(`{"name":"patient","valueString":"p3"}`, `{"name":"subject","valueReference":{"reference":"Patient/p4"}}`), 200, []string{"Patient/p3", "Patient/p4"}},
		{"POST", "/fhir/Patient/$render", `{"resourceType":"Parameters","parameter":{"name":"_id","valueId":"p5"}}`, 200, []string{"Patient/p5"}},
		{"POST", "/fhir/Observation/$render", params(`{"name":"code","valueString":"p6"}`), 200, []string{""}},
		{"POST", "/fhir/Observation/$render", params(many...), 400, nil},
	} {
		h.ledger.mu.Lock()
		before := len(h.ledger.entries)
		h.ledger.mu.Unlock()
		ct := ""
		if c.body != "" {
			ct = "application/fhir+json"
		}
		resp, body := h.do(c.method, c.path, "Organization/org-b|TREAT|user/*.*", ct, c.body)
		if resp.StatusCode != c.status || c.status == 200 && !strings.HasPrefix(body, "<html>") {
			t.Fatalf("%s %s %.80s: %d %.300s, want %d", c.method, c.path, c.body, resp.StatusCode, body, c.status)
		}
		h.ledger.mu.Lock()
		var got []string
		for _, e := range h.ledger.entries[before:] {
			got = append(got, e.Patient)
		}
		h.ledger.mu.Unlock()
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s %.80s: recorded under %q, want %q", c.method, c.path, c.body, got, c.want)
		}
	}
}

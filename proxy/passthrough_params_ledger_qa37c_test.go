package proxy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestPassthroughRecordedUnderNamedPatientsQA37C (QA round 37, area C, on
// 430a353): an unbound caller's operation whose answer passes uninspected
// (passthrough_content_types) was recorded under no patient when it was on
// a type (Observation/$render?patient=p2) or on a resource of no patient
// (Questionnaire/q1/$render?subject=Patient/p2), so p2's accounting of
// disclosures missed it. The patients its patient and subject parameters
// name are now recorded too, best effort, for the ledger only.
func TestPassthroughRecordedUnderNamedPatientsQA37C(t *testing.T) {
	t.Parallel()
	handler := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Questionnaire/q1") {
			fhirJSONHandler(200, `{"resourceType":"Questionnaire","id":"q1","status":"active"}`)(w, r)
			return
		}
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Patient/p1") {
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>record</pre></html>"))
	}
	h := newHarness(t, handler, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/fhir/Observation/$render?patient=p2", []string{"Patient/p2"}},
		{"/fhir/Observation/$render?patient=Patient/p2&_pretty=true", []string{"Patient/p2"}},
		{"/fhir/Observation/$render?subject=Patient/p2,Patient/p3&patient=p2", []string{"Patient/p2", "Patient/p3"}},
		{"/fhir/Observation/$render?subject:Patient=p4", []string{"Patient/p4"}},
		{"/fhir/$render?patient=p5", []string{"Patient/p5"}},
		{"/fhir/Questionnaire/q1/$render?subject=Patient/p2", []string{"Patient/p2"}},
		{"/fhir/Patient/p1/$render?patient=p2", []string{"Patient/p1", "Patient/p2"}},
		// Not a patient the proxy can name: recorded under no patient,
		// as before.
		{"/fhir/Observation/$render?subject=Group/g1", []string{""}},
		{"/fhir/Observation/$render?patient=bad%20id", []string{""}},
		{"/fhir/Observation/$render", []string{""}},
	} {
		h.ledger.mu.Lock()
		before := len(h.ledger.entries)
		h.ledger.mu.Unlock()
		resp, body := h.get(c.path, tokOther)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		h.ledger.mu.Lock()
		var got []string
		for _, e := range h.ledger.entries[before:] {
			got = append(got, e.Patient)
			if len(e.Disclosed) != 1 || e.Disclosed[0].Type != "Binary" {
				t.Errorf("%s: entry %+v, want the operation's answer disclosed", c.path, e)
			}
		}
		h.ledger.mu.Unlock()
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: recorded under %q, want %q", c.path, got, c.want)
		}
	}
}

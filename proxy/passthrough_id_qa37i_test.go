package proxy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestPassthroughPatientIDRecordedQA37I: a type-level operation on Patient
// picks its patient with _id (Patient/$render?_id=p2), as a search does.
func TestPassthroughPatientIDRecordedQA37I(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>record</pre></html>"))
	}, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/fhir/Patient/$render?_id=p2", []string{"Patient/p2"}},
		{"/fhir/Patient/$render?_id=p2,p3", []string{"Patient/p2", "Patient/p3"}},
		// Another type's _id names no patient.
		{"/fhir/Observation/$render?_id=p4", []string{""}},
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
		}
		h.ledger.mu.Unlock()
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: recorded under %q, want %q", c.path, got, c.want)
		}
	}
}

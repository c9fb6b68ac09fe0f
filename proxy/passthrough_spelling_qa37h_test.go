package proxy

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestPassthroughNamedPatientSpellingsQA37H (QA round 37, helper H, on
// 18bbcc9): an unbound caller's uninspected operation answer is recorded
// under the patients its query names, but only a relative Patient/ID or a
// bare id was read: Observation/$render?patient=<upstream base>/Patient/p2
// (the absolute spelling FHIR servers take for a reference parameter) or
// ?subject=Patient/p2/_history/3 was recorded under no patient, so p2's
// accounting of disclosures missed it. A reference directly below the
// upstream's base, and a version of it, now name the patient too; a
// reference to another server still names none.
func TestPassthroughNamedPatientSpellingsQA37H(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>record</pre></html>"))
	}, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	base := h.upstream.URL + "/fhir/R4"
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"patient=" + url.QueryEscape(base+"/Patient/p2"), []string{"Patient/p2"}},
		{"subject=" + url.QueryEscape(base+"/Patient/p3/_history/1"), []string{"Patient/p3"}},
		{"subject=Patient/p4/_history/3", []string{"Patient/p4"}},
		{"patient=Patient%2Fp5", []string{"Patient/p5"}},
		// Another server's patient is not one the proxy can name.
		{"patient=" + url.QueryEscape("https://other.example/fhir/Patient/p6"), []string{""}},
		{"subject=Patient/p7/_history/", []string{""}},
	} {
		h.ledger.mu.Lock()
		before := len(h.ledger.entries)
		h.ledger.mu.Unlock()
		resp, body := h.get("/fhir/Observation/$render?"+c.query, tokOther)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
			t.Fatalf("%s: %d %s", c.query, resp.StatusCode, body)
		}
		h.ledger.mu.Lock()
		var got []string
		for _, e := range h.ledger.entries[before:] {
			got = append(got, e.Patient)
		}
		h.ledger.mu.Unlock()
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: recorded under %q, want %q", c.query, got, c.want)
		}
	}
}

package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBundleOperationRecordedUnderItsPatientsQA38E: an operation's
// uninspected answer on a stored Bundle is recorded under the patients of
// its current version's entries, as one on a resource is under its
// patient (QA round 37, area A). After 0edb896 let operations on Bundles
// through, org-a's GET Bundle/b1/$render of p1's collection (text/html
// passed through) was recorded under no patient: missing from p1's
// accounting of disclosures.
func TestBundleOperationRecordedUnderItsPatientsQA38E(t *testing.T) {
	t.Parallel()
	coll := qa36eBundle("b1", "collection", `{"versionId":"1"}`, false, bpObs)
	handler := func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Bundle/b1") {
			fhirJSONHandler(200, coll)(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><pre>weight 60.40 kg</pre></html>"))
	}
	h := newHarness(t, handler, func(o *Options, _ *Deps) {
		o.PassthroughContentTypes = []string{"text/html"}
		o.Requests.AllowOperations = []string{"render"}
	})
	resp, body := h.get("/fhir/Bundle/b1/$render", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<html>") {
		t.Fatalf("org-a: %d %.200s", resp.StatusCode, body)
	}
	h.ledger.mu.Lock()
	defer h.ledger.mu.Unlock()
	var patients []string
	for _, e := range h.ledger.entries {
		patients = append(patients, e.Patient)
	}
	if len(patients) != 1 || patients[0] != "Patient/p1" {
		t.Errorf("recorded under %q, want Patient/p1 alone", patients)
	}
}

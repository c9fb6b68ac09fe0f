package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCopiesAreNotWhatProvenanceIsAboutQA35E: for a token bound to a
// patient, a Provenance takes the patients of the resources it is about
// that the response holds (aboutPatients). A copy of Observation/o2 inside
// a document of the response (naming Patient/p1, made up or older) was
// taken for the server's Observation/o2 (patient p2's): the Provenance of
// p2's Observation took p1 and was disclosed to p1's token, with who
// recorded it and why. A copy stands for its Type/id only within its own
// Bundle; the Provenance is about a resource the response does not hold,
// whose patient the proxy cannot tell, and is withheld.
func TestCopiesAreNotWhatProvenanceIsAboutQA35E(t *testing.T) {
	t.Parallel()
	const pv2 = `{"resourceType":"Provenance","id":"pv2","target":[{"reference":"Observation/o2"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/dr-secret"}}],"reason":[{"text":"intake-note-two"}]}`
	const pv1 = `{"resourceType":"Provenance","id":"pv1","target":[{"reference":"Bundle/doc1"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/dr-own"}}]}`
	const copyOfO2 = `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"}}`
	const doc = `{"resourceType":"Bundle","id":"doc1","type":"collection","entry":[{"fullUrl":"http://x/Observation/o2","resource":` + copyOfO2 + `}]}`
	body := `{"resourceType":"Bundle","type":"searchset","entry":[` +
		`{"fullUrl":"http://x/Provenance/pv2","resource":` + pv2 + `,"search":{"mode":"match"}},` +
		`{"fullUrl":"http://x/Provenance/pv1","resource":` + pv1 + `,"search":{"mode":"match"}},` +
		`{"fullUrl":"http://x/Bundle/doc1","resource":` + doc + `,"search":{"mode":"include"}}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if r.URL.Path == "/fhir/R4/Provenance" {
			_, _ = w.Write([]byte(body))
			return
		}
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	}, withScopeAuth)
	resp, out := h.get("/fhir/Provenance?_include=Provenance:target", "p1|patient/*.rs")
	if strings.Contains(out, "dr-secret") || strings.Contains(out, "intake-note-two") {
		t.Fatalf("p1's token got the Provenance of p2's Observation/o2: %d %s", resp.StatusCode, out)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("want the rest of the page: %d %s", resp.StatusCode, out)
	}
}

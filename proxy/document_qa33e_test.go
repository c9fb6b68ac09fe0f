package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// qa33eDoc builds a document Bundle of p1 with a Composition (marked conf,
// meta compMeta) whose section holds an Observation; compFirst false puts
// the Observation first, as a careless EHR stores it.
func qa33eDoc(id, compMeta, conf string, compFirst bool) string {
	comp := `{"fullUrl":"urn:uuid:c-` + id + `","resource":{"resourceType":"Composition","id":"c-` + id + `",` + compMeta + `"status":"final","confidentiality":"` + conf + `","type":{"text":"note"},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"x"}],"title":"t","section":[{"title":"s","entry":[{"reference":"urn:uuid:o-` + id + `"}]}]}}`
	obs := `{"fullUrl":"urn:uuid:o-` + id + `","resource":{"resourceType":"Observation","id":"o-` + id + `","status":"final","code":{"text":"mood"},"subject":{"reference":"Patient/p1"},"valueString":"session notes: discussed relapse"}}`
	entries := comp + "," + obs
	if !compFirst {
		entries = obs + "," + comp
	}
	return `{"resourceType":"Bundle","id":"` + id + `","type":"document","identifier":{"system":"urn:x","value":"` + id + `"},"timestamp":"2026-01-01T00:00:00Z","entry":[` + entries + `]}`
}

// QA round 33, area E, on bf901ab: withholdDocuments reads only the
// first entry as the Composition. A document Bundle stored with its
// Composition second (FHIR's bdl-11 is not enforced by every server)
// whose Composition is withheld went to the payer and org-b with the
// section's Observation (200), and without the Composition it names.
func TestDocumentCompositionNotFirstQA33E(t *testing.T) {
	t.Parallel()
	doc := qa33eDoc("b4", "", "R", false)
	h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b4": doc}))
	for _, tok := range []string{qa32bPayer, tokOther} {
		if resp, body := h.get("/fhir/Bundle/b4", tok); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "relapse") {
			t.Errorf("Bundle/b4 (Composition second) for %s: %d %s, want 404", tok, resp.StatusCode, body)
		}
	}
}

// QA round 33, area E, on bf901ab: a document Bundle read in a batch
// (GET Bundle/b1) whose Composition is withheld. Read alone it is missing
// (404); in a batch-response its entry must look like a missing one's.
func TestDocumentInBatchResponseQA33E(t *testing.T) {
	t.Parallel()
	doc := qa33eDoc("b1", "", "R", true)
	notFound := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[`+
				`{"resource":`+doc+`,"response":{"status":"200 OK"}},`+
				`{"response":{"status":"404 Not Found","outcome":`+notFound+`}}]}`)(w, r)
		case r.URL.Path == "/fhir/R4/Bundle/b1":
			fhirJSONHandler(200, doc)(w, r)
		default:
			fhirJSONHandler(404, notFound)(w, r)
		}
	})
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Bundle/b1"}},{"request":{"method":"GET","url":"Bundle/b9"}}]}`
	for _, tok := range []string{qa32bPayer, tokOther} {
		resp, body := h.do(http.MethodPost, "/fhir", tok, "application/fhir+json", req)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "relapse") || strings.Contains(body, `"type":"document"`) || strings.Count(body, "404") < 2 {
			t.Errorf("a batch reading a withheld document and a missing one, for %s: %d %s", tok, resp.StatusCode, body)
		}
	}
}

package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 33, area G, on 2a21b96: a withheld document (its Composition R)
// one level further down than a batch entry's own resource: a batch's
// search of Bundle answering a searchset that holds it, and the history
// of the document read alone or in a batch.
func TestDocumentNestedDeeperQA33G(t *testing.T) {
	t.Parallel()
	doc := qa33eDoc("b1", "", "R", true)
	search := `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + doc + `,"search":{"mode":"match"}}]}`
	hist := `{"resourceType":"Bundle","type":"history","total":1,"entry":[{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + doc + `,"request":{"method":"PUT","url":"Bundle/b1"},"response":{"status":"200 OK"}}]}`
	notFound := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[`+
				`{"resource":`+search+`,"response":{"status":"200 OK"}},`+
				`{"resource":`+hist+`,"response":{"status":"200 OK"}}]}`)(w, r)
		case r.URL.Path == "/fhir/R4/Bundle/b1":
			fhirJSONHandler(200, doc)(w, r)
		case r.URL.Path == "/fhir/R4/Bundle/b1/_history":
			fhirJSONHandler(200, hist)(w, r)
		case r.URL.Path == "/fhir/R4/Bundle":
			fhirJSONHandler(200, search)(w, r)
		default:
			fhirJSONHandler(404, notFound)(w, r)
		}
	})
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Bundle?identifier=urn:x|b1"}},{"request":{"method":"GET","url":"Bundle/b1/_history"}}]}`
	for _, tok := range []string{qa32bPayer, tokOther} {
		for _, c := range []struct{ method, path, body string }{
			{http.MethodPost, "/fhir", req},
			{http.MethodGet, "/fhir/Bundle?identifier=urn:x|b1", ""},
			{http.MethodGet, "/fhir/Bundle/b1/_history", ""},
		} {
			resp, body := h.do(c.method, c.path, tok, "application/fhir+json", c.body)
			if strings.Contains(body, "relapse") || strings.Contains(body, `"type":"document"`) || strings.Contains(body, `"total":1`) {
				t.Errorf("%s %s for %s: %d %s", c.method, c.path, tok, resp.StatusCode, body)
			}
		}
	}
}

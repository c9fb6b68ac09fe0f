package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestCanonicalSearchFailsClosedQA39K: a response naming its form by a
// canonical is labelled from a search of the upstream
// (Questionnaire?url=...): an answer that cannot be read as every match
// withholds the response (502) for every caller, as an unreadable
// reference target does; a search that finds nothing leaves it as its
// own codes make it.
func TestCanonicalSearchFailsClosedQA39K(t *testing.T) {
	t.Parallel()
	const acme = "http://acme.example/forms/PHQ-9"
	form := `{"resourceType":"Questionnaire","id":"7","url":"` + acme + `","status":"active","code":[{"system":"http://loinc.org","code":"44249-1"}]}`
	other := `{"resourceType":"Questionnaire","id":"8","url":"http://acme.example/forms/other","status":"active"}`
	tests := []struct {
		name   string
		status int
		body   string
		want   int
	}{
		{"no match", 200, `{"resourceType":"Bundle","type":"searchset","total":0}`, http.StatusOK},
		{"an outcome only", 200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"OperationOutcome","issue":[]},"search":{"mode":"outcome"}}]}`, http.StatusOK},
		{"a match", 200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + form + `}]}`, http.StatusNotFound},
		{"a 500", 500, `{"resourceType":"OperationOutcome","issue":[]}`, http.StatusBadGateway},
		{"a 404 (no such type)", 404, `{"resourceType":"OperationOutcome","issue":[]}`, http.StatusBadGateway},
		{"no searchset", 200, form, http.StatusBadGateway},
		{"another page", 200, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"http://x/p2"}],"entry":[{"resource":` + other + `}]}`, http.StatusBadGateway},
		{"url ignored", 200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + other + `}]}`, http.StatusBadGateway},
		{"another type", 200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}`, http.StatusBadGateway},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu    sync.Mutex
				query string
			)
			h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/fhir/R4/Questionnaire" {
					mu.Lock()
					query = r.URL.RawQuery
					mu.Unlock()
					fhirJSONHandler(tc.status, tc.body)(w, r)
					return
				}
				routes(map[string]string{
					"/fhir/R4/QuestionnaireResponse/qr2": qa39eQR("qr2", acme+"|2.0"),
				})(w, r)
			})
			for _, tok := range []string{tokOther, tokConsented} {
				want := tc.want
				if want == http.StatusNotFound && tok == tokConsented {
					want = http.StatusOK // org-a may read MH
				}
				if resp, body := h.get("/fhir/QuestionnaireResponse/qr2", tok); resp.StatusCode != want {
					t.Errorf("%s: %d %s, want %d", tok, resp.StatusCode, body, want)
				} else if want == http.StatusBadGateway && strings.Contains(body, "acme") {
					t.Errorf("%s: the failure names the form: %s", tok, body)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if query != "url=http%3A%2F%2Facme.example%2Fforms%2FPHQ-9" {
				t.Errorf("searched %q", query)
			}
		})
	}
}

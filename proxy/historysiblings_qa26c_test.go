package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestNestedHistoryWithholdsSiblingVersions: a type or system history
// withholds every version of a resource one of whose versions is withheld
// (an older ordinary version would show that a resource which reads as
// missing exists), but only when the history was the request itself. A
// batch entry's GET Condition/_history, or a stored history Bundle read as
// Bundle/x, answered the older ordinary version of the withheld Condition
// (its id and a version below the current one). Those go now; the other
// resources' versions stay.
func TestNestedHistoryWithholdsSiblingVersions(t *testing.T) {
	t.Parallel()
	sud := `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	old := `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"2"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M54.5"}]}}`
	ok := `{"resourceType":"Condition","id":"ok1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M54.5"}]}}`
	history := func(base string) string {
		e := func(res, method string) string {
			return `{"fullUrl":"` + base + `/Condition/x","resource":` + res + `,"request":{"method":"` + method + `","url":"Condition"},"response":{"status":"200"}}`
		}
		return `{"resourceType":"Bundle","id":"h1","type":"history","entry":[` + e(sud, "PUT") + `,` + e(old, "POST") + `,` + e(ok, "POST") + `]}`
	}
	h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
		base := h0base(r)
		_, _ = io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":`+history(base)+`,"response":{"status":"200 OK"}},{"resource":`+history(base)+`,"response":{"status":"200 OK"}}]}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Bundle/h1"):
			fhirJSONHandler(200, history(base))(w, r)
		case strings.HasSuffix(r.URL.Path, "/Bundle/c1"):
			fhirJSONHandler(200, `{"resourceType":"Bundle","id":"c1","type":"collection","entry":[{"resource":`+history(base)+`}]}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/_history"):
			fhirJSONHandler(200, history(base))(w, r)
		default:
			http.NotFound(w, r)
		}
	}, currentOf(sud, ok)))
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Condition/_history"}},{"request":{"method":"GET","url":"_history"}}]}`
	for _, c := range []struct{ name, method, path, body string }{
		{"batch", http.MethodPost, "/fhir", batch},
		{"stored history Bundle", http.MethodGet, "/fhir/Bundle/h1", ""},
		{"history Bundle in a stored Bundle", http.MethodGet, "/fhir/Bundle/c1", ""},
		{"type history (as before)", http.MethodGet, "/fhir/Condition/_history", ""},
	} {
		ct := ""
		if c.body != "" {
			ct = "application/fhir+json"
		}
		resp, body := h.do(c.method, c.path, tokOther, ct, c.body)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "sud1") || strings.Contains(body, "F11.20") || !strings.Contains(body, `"id":"ok1"`) {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
		}
	}
	// A caller who may read the Condition gets every version.
	resp, body := h.do(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", batch)
	if resp.StatusCode != http.StatusOK || strings.Count(body, `"id":"sud1"`) != 4 {
		t.Errorf("consented batch: %d %s", resp.StatusCode, body)
	}
}

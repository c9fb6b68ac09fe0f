package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEntryResponseLocationOnProxyBase: a history entry's or a batch
// response entry's response.location, written under the upstream's base
// (Condition/x/_history/1 as HAPI writes it), went out as the server wrote
// it, telling the caller the FHIR server's address, which the proxy hides
// everywhere else (fullUrl, Location, page links, metadata). It is
// rewritten to the proxy's base as fullUrl is; a relative one stays.
func TestEntryResponseLocationOnProxyBase(t *testing.T) {
	t.Parallel()
	ok := `{"resourceType":"Condition","id":"ok1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M54.5"}]}}`
	entry := func(base string) string {
		return `{"fullUrl":"` + base + `/Condition/ok1","resource":` + ok + `,"request":{"method":"POST","url":"Condition"},"response":{"status":"201 Created","location":"` + base + `/Condition/ok1/_history/1","etag":"W/\"1\""}}`
	}
	// ok1's second version: an instance history holds that resource's
	// versions only (QA round 39, area A).
	relative := `{"fullUrl":"x","resource":` + strings.Replace(ok, `"versionId":"1"`, `"versionId":"2"`, 1) + `,"request":{"method":"PUT","url":"Condition/ok1"},"response":{"status":"200 OK","location":"Condition/ok1/_history/2"}}`
	h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
		base := h0base(r)
		_, _ = io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"transaction-response","entry":[`+strings.Replace(entry(base), `"request":{"method":"POST","url":"Condition"},`, "", 1)+`]}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Condition/ok1"):
			fhirJSONHandler(200, ok)(w, r)
		case strings.HasSuffix(r.URL.Path, "/_history"):
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","entry":[`+entry(base)+`,`+relative+`]}`)(w, r)
		default:
			http.NotFound(w, r)
		}
	}, currentOf(strings.Replace(ok, `"ok1"`, `"ok2"`, 1))))
	txn := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M54.5"}]}},"request":{"method":"POST","url":"Condition"}}]}`
	for _, c := range []struct{ name, method, path, body string }{
		{"type history", http.MethodGet, "/fhir/Condition/_history", ""},
		{"system history", http.MethodGet, "/fhir/_history", ""},
		{"instance history", http.MethodGet, "/fhir/Condition/ok1/_history", ""},
		{"transaction", http.MethodPost, "/fhir", txn},
	} {
		ct := ""
		if c.body != "" {
			ct = "application/fhir+json"
		}
		resp, body := h.do(c.method, c.path, "Organization/org-a|TREAT|user/*.*", ct, c.body)
		want := `"location":"` + h.proxy.URL + `/fhir/Condition/ok1/_history/1"`
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) || strings.Contains(body, h.upstream.URL) {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		if c.method == http.MethodGet && !strings.Contains(body, `"location":"Condition/ok1/_history/2"`) {
			t.Errorf("%s: the relative location changed: %s", c.name, body)
		}
	}
}

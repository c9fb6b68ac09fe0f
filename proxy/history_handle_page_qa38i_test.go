package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestHistoryHandlePageQA38I: the second page of a type or system history
// that the upstream names by a handle at its base (HAPI FHIR's
// ?_getpages=...&_bundletype=history), followed by its page token, is
// routed as a search of the base; its versions were judged on their own.
// Org-b got an unlabelled older version of Bundle/b1, a collection
// labelled R since (its Condition "Opioid use disorder"), and the ordinary
// older version of Condition/sud1, whose current version (SUD) it may not
// read (200), where the first page, or the same page asked for by its
// _offset, withholds both. Org-a, which may read both, keeps them.
func TestHistoryHandlePageQA38I(t *testing.T) {
	t.Parallel()
	v1 := strings.ReplaceAll(qa36eDoc("b1", "collection", `{"versionId":"1"}`, false), `c1`, `c0`)
	v2 := qa36eDoc("b1", "collection", `{"versionId":"2","security":[`+qa36eR+`]}`, false)
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	cases := []struct{ path, version, shows string }{
		{"/fhir/Bundle/_history?_count=1", v1, `"c0"`},
		{"/fhir/_history?_count=1", v1, `"c0"`},
		{"/fhir/Condition/_history?_count=1", old, "Low back pain"},
		{"/fhir/_history?_count=1", old, "Low back pain"},
	}
	for _, c := range cases {
		var h *harness
		up := newRouted(map[string]string{})
		h = newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Query().Get("_getpages") != "":
				fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","entry":[{"resource":`+c.version+`,"request":{"method":"PUT","url":"Bundle/b1"}}]}`)(w, r)
			case strings.HasSuffix(r.URL.Path, "/_history"):
				next := h.base() + "?_getpages=4f0a&_getpagesoffset=1&_count=1&_bundletype=history"
				fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","link":[{"relation":"next","url":"`+next+`"}],`+
					`"entry":[{"resource":`+bpObs+`,"request":{"method":"PUT","url":"Observation/bp1"}}]}`)(w, r)
			default:
				up.handle(w, r)
			}
		}, map[string]string{"Bundle/b1": v2, "Condition/sud1": sudCondition, "Observation/bp1": bpObs}))
		for _, tok := range []string{tokOther, tokConsented} {
			resp, body := h.get(c.path, tok)
			next := pageLinksOf(t, body)["next"]
			if resp.StatusCode != http.StatusOK || next == "" {
				t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
			}
			resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tok)
			shown := strings.Contains(body, c.shows) || strings.Contains(body, "Opioid") || strings.Contains(body, "sud1")
			switch {
			case resp.StatusCode != http.StatusOK:
				t.Errorf("%s page 2: %d %s", c.path, resp.StatusCode, body)
			case tok == tokOther && shown:
				t.Errorf("org-b %s page 2 shows what it may not read: %s", c.path, body)
			case tok == tokConsented && !strings.Contains(body, c.shows):
				t.Errorf("org-a %s page 2 lost what it may read: %s", c.path, body)
			}
		}
	}
}

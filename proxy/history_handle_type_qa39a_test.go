package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestHistoryHandlePageOfAnyTypeQA39A: the second page of a type or
// system history that the upstream names by a handle at its base (HAPI
// FHIR's ?_getpages=...&_bundletype=history) is judged as a history page
// when the server answers it as a history (4a2129f), but a server
// answering that page as a searchset or a collection, as 3572a23 found of
// a history's first page, gave org-b the ordinary older version of
// Condition/sud1, whose current version (SUD) it may not read (200), and
// the unlabelled older version of Bundle/b1, a collection labelled R
// since; so did a page the server names by a handle below a type
// (Condition?_getpages=, routed as a search of Condition), even answered
// as a history. Org-a, which may read both, keeps them.
func TestHistoryHandlePageOfAnyTypeQA39A(t *testing.T) {
	t.Parallel()
	v1 := strings.ReplaceAll(qa36eDoc("b1", "collection", `{"versionId":"1"}`, false), `c1`, `c0`)
	v2 := qa36eDoc("b1", "collection", `{"versionId":"2","security":[`+qa36eR+`]}`, false)
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	cases := []struct{ path, version, url, shows string }{
		{"/fhir/Bundle/_history?_count=1", v1, "Bundle/b1", `"c0"`},
		{"/fhir/_history?_count=1", v1, "Bundle/b1", `"c0"`},
		{"/fhir/Condition/_history?_count=1", old, "Condition/sud1", "Low back pain"},
		{"/fhir/_history?_count=1", old, "Condition/sud1", "Low back pain"},
	}
	for _, at := range []string{"", "/Condition"} {
		for _, typ := range []string{"history", "searchset", "collection"} {
			if at == "" && typ == "history" {
				continue // TestHistoryHandlePageQA38I
			}
			for _, c := range cases {
				var h *harness
				up := newRouted(map[string]string{})
				h = newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
					switch {
					case r.URL.Query().Get("_getpages") != "":
						fhirJSONHandler(200, `{"resourceType":"Bundle","type":"`+typ+`","entry":[{"resource":`+c.version+`,"request":{"method":"PUT","url":"`+c.url+`"}}]}`)(w, r)
					case strings.HasSuffix(r.URL.Path, "/_history"):
						next := h.base() + at + "?_getpages=4f0a&_getpagesoffset=1&_count=1&_bundletype=history"
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
					shown := strings.Contains(body, c.shows) || strings.Contains(body, "Opioid")
					switch {
					case resp.StatusCode != http.StatusOK:
						t.Errorf("%s page 2 at %q as %s: %d %s", c.path, at, typ, resp.StatusCode, body)
					case tok == tokOther && shown:
						t.Errorf("org-b %s page 2 at %q as %s shows what it may not read: %s", c.path, at, typ, body)
					case tok == tokConsented && !strings.Contains(body, c.shows):
						t.Errorf("org-a %s page 2 at %q as %s lost what it may read: %s", c.path, at, typ, body)
					}
				}
			}
		}
	}
}

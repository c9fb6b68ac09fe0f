package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestHistoryFirstLinkQA39F: the first link of a windowed type or system
// history page is a page of the same history, but its token was minted
// without pageHistory (windowLinks gave "first" no flags): a server naming
// the history's first page by a handle below a type (Condition?_getpages=
// ...&_getpagesoffset=0), or answering it as a searchset, gave org-b on
// that page the ordinary older version of Condition/sud1 whose current
// version (SUD) it may not read, which the next link's page withholds
// since 0bbf956. Org-a keeps it.
func TestHistoryFirstLinkQA39F(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	for _, at := range []string{"", "/Condition"} {
		for _, typ := range []string{"history", "searchset", "collection"} {
			if at == "" && typ == "history" {
				continue // a search of the base answered as a history (4a2129f)
			}
			for _, path := range []string{"/fhir/Condition/_history?_count=1", "/fhir/_history?_count=1"} {
				var h *harness
				up := newRouted(map[string]string{})
				h = newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
					switch {
					case r.URL.Query().Get("_getpages") != "":
						fhirJSONHandler(200, `{"resourceType":"Bundle","type":"`+typ+`","entry":[{"resource":`+old+`,"request":{"method":"PUT","url":"Condition/sud1"}}]}`)(w, r)
					case strings.HasSuffix(r.URL.Path, "/_history"):
						first := h.base() + at + "?_getpages=4f0a&_getpagesoffset=0&_count=1&_bundletype=history"
						next := h.base() + "/_history?_count=1&_offset=1"
						fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","link":[{"relation":"first","url":"`+first+`"},{"relation":"next","url":"`+next+`"}],`+
							`"entry":[{"resource":`+bpObs+`,"request":{"method":"PUT","url":"Observation/bp1"}}]}`)(w, r)
					default:
						up.handle(w, r)
					}
				}, map[string]string{"Condition/sud1": sudCondition, "Observation/bp1": bpObs}))
				for _, tok := range []string{tokOther, tokConsented} {
					resp, body := h.get(path, tok)
					first := pageLinksOf(t, body)["first"]
					if resp.StatusCode != http.StatusOK || first == "" {
						t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
					}
					resp, body = h.get(strings.TrimPrefix(first, h.proxy.URL), tok)
					shown := strings.Contains(body, "Low back pain") || strings.Contains(body, "Opioid")
					switch {
					case resp.StatusCode != http.StatusOK:
						t.Errorf("%s first page at %q as %s: %d %s", path, at, typ, resp.StatusCode, body)
					case tok == tokOther && shown:
						t.Errorf("org-b %s first page at %q as %s shows what it may not read: %s", path, at, typ, body)
					case tok == tokConsented && !strings.Contains(body, "Low back pain"):
						t.Errorf("org-a %s first page at %q as %s lost what it may read: %s", path, at, typ, body)
					}
				}
			}
		}
	}
}

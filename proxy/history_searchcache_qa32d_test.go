package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestHistoryCurrentSearchNotReusedQA32D: a type history reads the current
// version of each resource a page discloses by a Type?_id= search
// (currentBySearch), and withholds the older versions of one the caller may
// not read now. HAPI FHIR answers a search asked again within a minute with
// the results it found the first time unless told Cache-Control: no-cache
// (209ee7f set it on the consent reads only): a Condition made an SUD
// record a moment ago was still judged by its ordinary version, and its
// older version told org-b that a resource which reads as missing exists.
func TestHistoryCurrentSearchNotReusedQA32D(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	other := strings.ReplaceAll(strings.ReplaceAll(old, `"sud1"`, `"c2"`), "Low back pain", "Sprain")
	page := `{"resourceType":"Bundle","type":"history","entry":[
	 {"resource":` + old + `,"request":{"method":"POST","url":"Condition"}},
	 {"resource":` + other + `,"request":{"method":"POST","url":"Condition"}}]}`
	var (
		mu      sync.Mutex
		current = old
		reused  = map[string]string{}
	)
	up := newRouted(map[string]string{})
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur := current
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/_history"):
			fhirJSONHandler(200, page)(w, r)
		case r.URL.Path == "/fhir/R4/Condition/sud1":
			fhirJSONHandler(200, cur)(w, r)
		case r.URL.Path == "/fhir/R4/Condition/c2":
			fhirJSONHandler(200, other)(w, r)
		case r.URL.Path == "/fhir/R4/Condition" && r.URL.Query().Get("_id") != "":
			// A search asked again is answered as the first time, as
			// HAPI FHIR does, unless the request says no-cache.
			mu.Lock()
			body, ok := reused[r.URL.RawQuery]
			if !ok || strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
				body = `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + cur + `,"search":{"mode":"match"}},{"resource":` + other + `,"search":{"mode":"match"}}]}`
				reused[r.URL.RawQuery] = body
			}
			mu.Unlock()
			fhirJSONHandler(200, body)(w, r)
		default:
			up.handle(w, r)
		}
	})
	if resp, body := h.get("/fhir/Condition/_history", tokOther); resp.StatusCode != 200 || !strings.Contains(body, "Low back pain") {
		t.Fatalf("while sud1 is ordinary: %d %s", resp.StatusCode, body)
	}
	mu.Lock()
	current = sudCondition // the EHR records the opioid dependence
	mu.Unlock()
	if resp, body := h.get("/fhir/Condition/_history", tokOther); resp.StatusCode != 200 || strings.Contains(body, "sud1") || strings.Contains(body, "Low back pain") || !strings.Contains(body, "Sprain") {
		t.Errorf("after sud1 became an SUD record, a caller who may not read it: %d %s, want its older version withheld", resp.StatusCode, body)
	}
}

package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestTypeHistoryBundleVersionsQA38D: the Bundles of a type or system
// history (GET Bundle/_history, GET _history, a batch entry's
// Bundle/_history) are judged as their vread is (0edb896): the labels
// each one's current version carries as a whole label the entries of
// every version of it on the page, wherever that current version is (on
// the page, or not). A collection stored unlabelled (v1, its Condition
// c0 "Opioid use disorder" in text alone) and labelled R since (v2) gave
// org-b v1's Condition (200). A Bundle whose current version reads as
// missing (a document whose Composition org-b may not read, or none) takes
// its versions with it; a deleted one (410) keeps them; a read that fails
// withholds the page; an ordinary Bundle's versions stay.
func TestTypeHistoryBundleVersionsQA38D(t *testing.T) {
	t.Parallel()
	entry := func(res string) string {
		return `{"fullUrl":"http://up/fhir/R4/Bundle/x","resource":` + res + `,"request":{"method":"PUT","url":"Bundle/x"},"response":{"status":"200 OK"}}`
	}
	history := func(resources ...string) string {
		var es []string
		for _, res := range resources {
			es = append(es, entry(res))
		}
		return `{"resourceType":"Bundle","type":"history","entry":[` + strings.Join(es, ",") + `]}`
	}
	for _, typ := range []string{"collection", "document"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			v1 := strings.ReplaceAll(qa36eDoc("b1", typ, `{"versionId":"1"}`, false), `c1`, `c0`)
			v2 := qa36eDoc("b1", typ, `{"versionId":"2","security":[`+qa36eR+`]}`, false)
			// Bundles whose current version is missing (b3), deleted
			// (b4) or cannot be read (b5), each an unlabelled version
			// holding Condition c0.
			older := func(id string) string { return strings.ReplaceAll(v1, `"b1"`, `"`+id+`"`) }
			plain := qa36eBundle("b2", "collection", `{"versionId":"1"}`, false, bpObs)
			pages := map[string]string{
				"both":    history(v2, v1),
				"older":   history(v1, plain),
				"missing": history(older("b3"), plain),
				"deleted": history(older("b4"), plain),
				"failed":  history(older("b5"), plain),
			}
			current := map[string]string{"Bundle/b1": v2, "Bundle/b2": plain, "Bundle/b4": ""}
			var h *harness
			h = newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodPost:
					// A batch of one GET Bundle/_history?_since=<page>.
					page := pages[strings.TrimPrefix(qa38dBatchURL(r), "Bundle/_history?_since=")]
					fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":`+page+`,"response":{"status":"200 OK"}}]}`)(w, r)
				case strings.HasSuffix(r.URL.Path, "/_history"):
					fhirJSONHandler(200, pages[r.URL.Query().Get("_since")])(w, r)
				case r.URL.Path == "/fhir/R4/Bundle/b5":
					fhirJSONHandler(500, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)(w, r)
				default:
					fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
				}
			}, current))
			get := func(path, page, tok string) (int, string) {
				if path == "batch" {
					req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Bundle/_history?_since=` + page + `"}}]}`
					resp, body := h.do(http.MethodPost, "/fhir", tok, "application/fhir+json", req)
					return resp.StatusCode, body
				}
				resp, body := h.get(path+"?_since="+page, tok)
				return resp.StatusCode, body
			}
			for _, path := range []string{"/fhir/Bundle/_history", "/fhir/_history", "batch"} {
				for _, page := range []string{"both", "older"} {
					st, body := get(path, page, tokOther)
					if st != http.StatusOK || strings.Contains(body, "Opioid") || strings.Contains(body, `"c0"`) {
						t.Errorf("org-b %s %s: %d %s", path, page, st, body)
					}
					if page == "older" && !strings.Contains(body, "weight") {
						t.Errorf("org-b %s %s lost the ordinary Bundle: %d %s", path, page, st, body)
					}
					if typ == "document" && strings.Contains(body, `"b1"`) {
						t.Errorf("org-b %s %s: a document it may not read is shown: %d %s", path, page, st, body)
					}
					st, body = get(path, page, tokConsented)
					if st != http.StatusOK || !strings.Contains(body, `"c0"`) {
						t.Errorf("org-a %s %s: %d %s", path, page, st, body)
					}
				}
				st, body := get(path, "missing", tokConsented)
				if st != http.StatusOK || strings.Contains(body, "b3") || !strings.Contains(body, "weight") {
					t.Errorf("%s, a Bundle whose current version is missing: %d %s", path, st, body)
				}
				st, body = get(path, "deleted", tokConsented)
				if st != http.StatusOK || !strings.Contains(body, `"c0"`) {
					t.Errorf("%s, a deleted Bundle: %d %s", path, st, body)
				}
				st, body = get(path, "failed", tokConsented)
				if strings.Contains(body, "c0") || strings.Contains(body, "weight") || st == http.StatusOK {
					t.Errorf("%s, a current version that cannot be read: %d %s", path, st, body)
				}
			}
		})
	}
}

// qa38dBatchURL is the url of the first entry's request of the batch r
// posts.
func qa38dBatchURL(r *http.Request) string {
	var b struct {
		Entry []struct {
			Request struct{ URL string } `json:"request"`
		} `json:"entry"`
	}
	if json.NewDecoder(r.Body).Decode(&b) != nil || len(b.Entry) == 0 {
		return ""
	}
	return b.Entry[0].Request.URL
}

// TestCurrentBundlesCostNothingQA38D: a type or system history page, a
// batch's answer or a searchset holding no Bundle version reads nothing
// and allocates nothing for the Bundle versions (currentBundles,
// withholdBundleVersions); one holding a Bundle version finds it.
func TestCurrentBundlesCostNothingQA38D(t *testing.T) {
	s := checkedServer(t)
	hist := `{"resourceType":"Bundle","type":"history","entry":[{"resource":` + bpObs + `},{"resource":` + bpObs2 + `}]}`
	for _, c := range []struct {
		req  fhirRequest
		body string
	}{
		{fhirRequest{Interaction: History}, hist},
		{fhirRequest{Interaction: History, Type: "Observation"}, hist},
		{fhirRequest{Interaction: Batch}, `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":` + hist + `}]}`},
		{fhirRequest{Interaction: Search, Type: "Bundle"}, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + qa36eDoc("b1", "collection", `{"versionId":"1"}`, false) + `}]}`},
	} {
		r := s.newRun(&exchange{req: c.req}, []byte(c.body))
		root, _, err := r.collectChecked()
		if err != nil {
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(100, func() {
			if prior, f := r.currentBundles(context.Background(), root); prior != nil || f != nil {
				t.Fatalf("%v: %v %v", c.req, prior, f)
			}
			r.withholdBundleVersions(root)
		})
		if n != 0 {
			t.Errorf("%v: %v allocations", c.req, n)
		}
	}
	withVersion := `{"resourceType":"Bundle","type":"history","entry":[{"resource":` + qa36eDoc("b1", "collection", `{"versionId":"1"}`, false) + `}]}`
	r := s.newRun(&exchange{req: fhirRequest{Interaction: History, Type: "Bundle"}}, []byte(withVersion))
	root, _, err := r.collectChecked()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	r.eachBundleVersion(root, func(b *bundleNode) { ids = append(ids, r.bundleID(b)) })
	if len(ids) != 1 || ids[0] != "b1" {
		t.Errorf("Bundle versions of a type history: %q", ids)
	}
}

package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestBatchMergedIfMatchKeySpellingQA35G: a batch update entry merged with
// the caller's view goes upstream with request.ifMatch, spelled exactly,
// naming the version merged, whatever the caller wrote in its request.
// The proxy read the entry's request with encoding/json, whose names match
// whatever their case: an entry with "IfMatch":"W/\"1\"" counted as the
// caller's own ifMatch, so the proxy added none, and a server reading
// request.ifMatch (Medplum ignores IfMatch: checked, a bogus IfMatch
// updated) wrote the merge of version 1 over whatever version was stored
// by then, losing the parts withheld from the caller that another writer
// added in between. The caller's own ifMatch naming the version merged,
// strong or weak, goes as the weak one.
func TestBatchMergedIfMatchKeySpellingQA35G(t *testing.T) {
	t.Parallel()
	for name, key := range map[string]string{
		"case":   `"IfMatch"`,
		"upper":  `"IFMATCH"`,
		"strong": `"ifMatch"`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
			var mu sync.Mutex
			var forwarded []string
			h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					b, _ := io.ReadAll(r.Body)
					mu.Lock()
					forwarded = append(forwarded, string(b))
					mu.Unlock()
					r.Body = io.NopCloser(bytes.NewReader(b))
				}
				up.handler(w, r)
			})
			_, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokOtherWriter)
			edited := strings.Replace(view, `"outcome":"complete"`, `"outcome":"partial"`, 1)
			val := `"W/\"1\""`
			if name == "strong" {
				val = `"\"1\""`
			}
			batch := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + edited + `,"request":{"method":"PUT","url":"ExplanationOfBenefit/eob1",` + key + `:` + val + `}}]}`
			resp, body := h.send(http.MethodPost, "/fhir", tokOtherWriter, "application/fhir+json", batch)
			if resp.StatusCode != 200 {
				t.Fatalf("batch: %d %s", resp.StatusCode, body)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(forwarded) != 1 || strings.Count(forwarded[0], `"ifMatch":"W/\"1\""`) != 1 {
				t.Fatalf("the merged entry went without request.ifMatch W/\"1\" spelled exactly: %q", forwarded)
			}
		})
	}
}

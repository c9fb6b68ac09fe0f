package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestBatchSearchByDirectoryEntryQA41K (QA round 41, area K, on I-1): a
// batch entry's Patient?organization=Organization/u1 (a department partOf
// the Part 2 program) lists the program's patients as the same search on
// its own does, which I-1 refuses: refused in a batch too, as the program
// itself is there; an ordinary organisation's entry goes through.
func TestBatchSearchByDirectoryEntryQA41K(t *testing.T) {
	t.Parallel()
	bundle := `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]},"response":{"status":"200 OK"}}]}`
	var mu sync.Mutex
	h := newHarness(t, qa41iDirectory(bundle, map[string]int{}, &mu, false), withProgram)
	batch := func(url string) string {
		return `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + url + `"}}]}`
	}
	for _, u := range []string{"Patient?organization=Organization/u1", "Patient?general-practitioner=r1", "Patient?organization:Organization=u1"} {
		resp, body := h.do(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", batch(u))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
			t.Errorf("%s in a batch: %d %s", u, resp.StatusCode, body)
		}
	}
	if resp, body := h.do(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", batch("Patient?organization=Organization/general")); resp.StatusCode != http.StatusOK {
		t.Errorf("ordinary organisation in a batch: %d %s", resp.StatusCode, body)
	}
}

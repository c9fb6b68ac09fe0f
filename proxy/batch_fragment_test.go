package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestFragmentInBatchEntryRefused: a batch entry's url with a '#' is
// refused before anything reaches the upstream, as a request's query with
// one is (TestFragmentInQueryRefused): the guard read code=86406008#x as a
// code no rule labels and let the _include through, while a server reading
// '#' as a fragment searched code=86406008 with it (QA round 19). An
// encoded # is a value's character and goes through.
func TestFragmentInBatchEntryRefused(t *testing.T) {
	t.Parallel()
	batchOf := func(url string) string {
		return `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"` + url + `"}}]}`
	}
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"}}]}`))
	for _, url := range []string{
		"Condition?_include=Condition:subject&code=86406008#x",
		"Condition?_include=Condition:subject&code=http://snomed.info/sct|86406008#",
		"Condition/c1#x",
	} {
		resp, body := h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batchOf(url))
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(url, "?") && !strings.Contains(body, "'#'") {
			t.Errorf("%s: %d %s, want 400", url, resp.StatusCode, body)
		}
	}
	select {
	case r := <-h.seen:
		t.Fatalf("a refused batch reached the upstream: %s", r.URL.Path)
	default:
	}
	if resp, body := h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batchOf("Observation?code=a%23b")); resp.StatusCode != http.StatusOK {
		t.Fatalf("an encoded #: %d %s", resp.StatusCode, body)
	}
}

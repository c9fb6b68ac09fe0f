package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCompartmentSearchOfWithheldOwnerAnswersAsMissing: a compartment
// search below an owner the caller may not read answers exactly as one
// below an owner that does not exist (the upstream answers 404 for that),
// not 200 with no match.
func TestCompartmentSearchOfWithheldOwnerAnswersAsMissing(t *testing.T) {
	t.Parallel()
	up := newRefUpstream()
	h := newHarness(t, up.handle)
	r1, b1 := h.get("/fhir/Encounter/e-p2/Observation", tokOther)
	r2, b2 := h.get("/fhir/Encounter/nope/Observation", tokOther)
	if r1.StatusCode != 404 || r2.StatusCode != 404 || strings.ReplaceAll(b1, "e-p2", "nope") != b2 {
		t.Fatalf("withheld %d %s\nmissing %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	for _, r := range []*http.Response{r1, r2} {
		r.Header.Del("Date")
		r.Header.Del("X-Request-Id")
	}
	if !equalHeaders(r1.Header, r2.Header) {
		t.Fatalf("headers differ:\n%v\n%v", r1.Header, r2.Header)
	}
	if up.readsOf("Encounter/e-p2/Observation") != 0 {
		t.Errorf("the search below a withheld owner reached the upstream")
	}
	if r, b := h.get("/fhir/Encounter/e-p2/Observation", tokConsented); r.StatusCode != 200 || !strings.Contains(b, "searchset") {
		t.Errorf("consented caller: %d %s", r.StatusCode, b)
	}
}

// In a batch, a compartment search (its owner unchecked there) and a POST
// _search (its form unchecked) are refused, whatever is stored.
func TestBatchCompartmentAndPostSearchRefused(t *testing.T) {
	t.Parallel()
	up := newRefUpstream()
	h := newHarness(t, up.handle)
	for _, e := range []string{
		`{"request":{"method":"GET","url":"Encounter/e-p2/Observation"}}`,
		`{"request":{"method":"GET","url":"Encounter/nope/Observation"}}`,
		`{"request":{"method":"POST","url":"Condition/_search"},"resource":{"resourceType":"Parameters"}}`,
	} {
		resp, body := h.send(http.MethodPost, "/fhir", tokOtherWriter, "application/fhir+json", entryBundle("batch", e))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not supported") {
			t.Errorf("%s: %d %s", e, resp.StatusCode, body)
		}
	}
	if up.writeCount() != 0 {
		t.Fatalf("%d requests reached the upstream's batch endpoint", up.writeCount())
	}
}

package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBatchEntryPreconditions: an entry's ifNoneMatch or ifModifiedSince
// (304 for a withheld resource against 404 for a missing one) is refused
// whatever is stored, and so is ifMatch but on PUT, PATCH and DELETE; on
// those, a withheld resource answers as a missing one before its version
// is compared. A read's If-Match is not forwarded.
func TestBatchEntryPreconditions(t *testing.T) {
	t.Parallel()
	up := newRefUpstream()
	h := newHarness(t, up.handle)
	for _, pre := range []string{`"ifNoneMatch":"W/\"3\""`, `"ifModifiedSince":"2020-01-01T00:00:00Z"`, `"ifMatch":"W/\"3\""`} {
		for _, id := range []string{"sud1", "zz91"} {
			b := entryBundle("batch", `{"request":{"method":"GET","url":"Condition/`+id+`",`+pre+`}}`)
			resp, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json", b)
			if resp.StatusCode != 400 || !strings.Contains(body, "send it as its own request") {
				t.Errorf("%s %s: %d %s", pre, id, resp.StatusCode, body)
			}
		}
	}
	if up.writeCount() != 0 || up.readsOf("Condition/sud1") != 0 {
		t.Fatalf("a refused batch reached the upstream: %v", up.writes)
	}
	// ifMatch on a PUT: the wrong version of a withheld resource answers
	// as a missing one (not 412).
	for _, entryType := range []string{"PUT", "DELETE"} {
		var bodies []string
		for _, id := range []string{"sud1", "zz91"} {
			e := `{"request":{"method":"` + entryType + `","url":"Condition/` + id + `","ifMatch":"W/\"1\""}`
			if entryType == "PUT" {
				e += `,"resource":` + strings.Replace(sudCondition, "sud1", id, 1)
			}
			resp, body := h.send(http.MethodPost, "/fhir", tokOtherWriter, "application/fhir+json", entryBundle("batch", e+"}"))
			if resp.StatusCode != 404 {
				t.Errorf("%s %s with ifMatch: %d %s", entryType, id, resp.StatusCode, body)
			}
			bodies = append(bodies, strings.ReplaceAll(body, id, "ID"))
		}
		if bodies[0] != bodies[1] {
			t.Errorf("%s: withheld and missing differ:\n%s\n%s", entryType, bodies[0], bodies[1])
		}
	}
	// A read's If-Match: the upstream would answer 412 for the withheld
	// resource (version 3), where a missing one answers 404.
	r1, b1 := h.get("/fhir/Condition/sud1", tokOther, "If-Match", `W/"1"`)
	r2, b2 := h.get("/fhir/Condition/zz91", tokOther, "If-Match", `W/"1"`)
	if r1.StatusCode != 404 || r2.StatusCode != 404 || strings.ReplaceAll(b1, "sud1", "zz91") != b2 {
		t.Errorf("read with If-Match: withheld %d %s\nmissing %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if up.writeCount() != 0 {
		t.Fatalf("writes reached the upstream: %v", up.writes)
	}
}

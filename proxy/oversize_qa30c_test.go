package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A read larger than max_body_bytes cannot be judged, so it answers 502
// (README, "What is enforced where"): a known tell of existence. It must
// not tell more: the answer is the same byte for byte whether the
// resource would be withheld from the caller or disclosed, on a read, a
// vread of an older version and the instance's history (each reads the
// current version first), also once the label cache knows the withheld
// one from a smaller read.
func TestOversizeReadTellsNoSensitivityQA30C(t *testing.T) {
	t.Parallel()
	pad := `,"note":[{"text":"` + strings.Repeat("x", 4096) + `"}]}`
	big := map[string]bool{}
	bodies := map[string]string{
		"Condition/sud1": strings.TrimSuffix(sudCondition, "}"),
		"Condition/ok1":  `{"resourceType":"Condition","id":"ok1","meta":{"versionId":"3"},"subject":{"reference":"Patient/p1"},"code":{"text":"x"}`,
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
		typ, tail, _ := strings.Cut(rest, "/")
		id, _, _ := strings.Cut(tail, "/")
		b, ok := bodies[typ+"/"+id]
		if !ok {
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		if big[typ+"/"+id] {
			b += pad
		} else {
			b += "}"
		}
		if strings.Contains(tail, "_history") && !strings.Contains(tail, "_history/") {
			b = `{"resourceType":"Bundle","type":"history","entry":[{"resource":` + b + `}]}`
		}
		w.Header().Set("ETag", `W/"3"`)
		fhirJSONHandler(200, b)(w, r)
	}, func(o *Options, d *Deps) { o.MaxBodyBytes = 2048 })
	// The label cache learns sud1 from a small read first.
	if resp, _ := h.get("/fhir/Condition/sud1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("small withheld read: %d", resp.StatusCode)
	}
	big["Condition/sud1"], big["Condition/ok1"] = true, true
	for _, tail := range []string{"", "/_history/2", "/_history"} {
		r1, b1 := h.get("/fhir/Condition/sud1"+tail, tokOther)
		r2, b2 := h.get("/fhir/Condition/ok1"+tail, tokOther)
		b2 = strings.ReplaceAll(b2, "ok1", "sud1")
		if r1.StatusCode != r2.StatusCode || b1 != b2 || !sameHeadersQA30C(r1.Header, r2.Header) {
			t.Errorf("%s: withheld %d %v %s; ordinary %d %v %s", tail, r1.StatusCode, r1.Header, b1, r2.StatusCode, r2.Header, b2)
		}
		if r1.StatusCode == http.StatusOK {
			t.Errorf("%s: an oversize resource was answered 200", tail)
		}
	}
}

func sameHeadersQA30C(a, b http.Header) bool {
	skip := map[string]bool{"Date": true, "X-Request-Id": true, "Content-Length": true, "Traceparent": true}
	for k := range a {
		if !skip[k] && strings.Join(a[k], ",") != strings.Join(b[k], ",") {
			return false
		}
	}
	for k := range b {
		if !skip[k] && a.Get(k) == "" && b.Get(k) != "" {
			return false
		}
	}
	return true
}

package proxy

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestNamesDifferingOnlyInCaseAreRefused: the write guards read request
// bodies in part with encoding/json, which takes "Entry" for "entry" (and
// "requeſt" for "request") and the last of two; the FHIR server reads the
// name spelled exactly. QA round 11 sent a batch with "entry" and
// "Entry":[] and org-b's PUT of its partial view reached the upstream
// unchecked, erasing the SUD diagnosis it was never shown. Every such body
// is refused (400) and nothing reaches the upstream.
func TestNamesDifferingOnlyInCaseAreRefused(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var writes []string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			writes = append(writes, r.Method+" "+r.URL.Path+" "+string(b))
			mu.Unlock()
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"}}]}`)(w, r)
			return
		}
		switch strings.TrimPrefix(r.URL.Path, "/fhir/R4/") {
		case "ExplanationOfBenefit/eob1":
			fhirJSONHandler(200, storedEOB)(w, r)
		case "Patient/p1":
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
		case "Observation/o1":
			fhirJSONHandler(200, `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	})
	view := `{"resourceType":"ExplanationOfBenefit","id":"eob1","status":"active","patient":{"reference":"Patient/p1"},"use":"claim","outcome":"complete"}`
	innerPatch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"remove","path":"/meta/security/0","Path":"/status"}]`))
	for _, c := range []struct{ name, method, path, contentType, body string }{
		{"a second entry list", "POST", "/fhir", "application/fhir+json",
			`{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + view + `,"request":{"method":"PUT","url":"ExplanationOfBenefit/eob1"}}],"Entry":[]}`},
		{"a second request", "POST", "/fhir", "application/fhir+json",
			`{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + view + `,"request":{"method":"PUT","url":"ExplanationOfBenefit/eob1"},"Request":{"method":"GET","url":"Patient?name=x"}}]}`},
		{"a long s", "POST", "/fhir", "application/fhir+json",
			`{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + view + `,"request":{"method":"PUT","url":"ExplanationOfBenefit/eob1"},"requeſt":{"method":"GET","url":"Patient?name=x"}}]}`},
		{"a second method", "POST", "/fhir", "application/fhir+json",
			`{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + view + `,"request":{"method":"PUT","url":"ExplanationOfBenefit/eob1","METHOD":"GET"}}]}`},
		{"a JSON Patch path", "PATCH", "/fhir/Observation/o1", "application/json-patch+json",
			`[{"op":"remove","path":"/meta/security/0","Path":"/status"}]`},
		{"a JSON Patch op", "PATCH", "/fhir/Observation/o1", "application/json-patch+json",
			`[{"op":"test","OP":"add","path":"/status","value":"final"}]`},
		{"a Binary patch's JSON", "POST", "/fhir", "application/fhir+json",
			`{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + innerPatch + `"},"request":{"method":"PATCH","url":"Observation/o1"}}]}`},
		{"an update", "PUT", "/fhir/Observation/o1", "application/fhir+json",
			`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"},"Subject":{"reference":"Patient/p2"}}`},
	} {
		resp, body := h.send(c.method, c.path, tokOtherWriter, c.contentType, c.body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "differ only in case") {
			t.Errorf("%s: %d %s, want 400", c.name, resp.StatusCode, body)
		}
	}
	// Nor behind what makes the body invalid JSON elsewhere (an exact
	// duplicate, invalid UTF-8): the patch readers never validated.
	for name, body := range map[string]string{
		"an exact duplicate":  `[{"op":"replace","path":"/meta/source","Path":"/status","value":"final","x":1,"x":2}]`,
		"invalid UTF-8":       "[{\"op\":\"replace\",\"path\":\"/meta/source\",\"Path\":\"/status\",\"value\":\"\xff\"}]",
		"a copy behind a dup": `[{"op":"copy","OP":"add","from":"/code/text","path":"/subject/reference","x":1,"x":2}]`,
	} {
		if resp, out := h.send("PATCH", "/fhir/Observation/o1", tokOtherWriter, "application/json-patch+json", body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, resp.StatusCode, out)
		}
	}
	// Names that only look alike are not refused.
	if resp, body := h.send("PUT", "/fhir/Observation/o1", tokOtherWriter, "application/fhir+json",
		`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"},"_status":{"id":"s"}}`); resp.StatusCode != 200 {
		t.Errorf("an ordinary update: %d %s", resp.StatusCode, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(writes) != 1 {
		t.Errorf("upstream writes %q, want only the ordinary update's", writes)
	}
}

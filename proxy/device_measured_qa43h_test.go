package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestDeviceMeasuredForProgramQA43H (QA round 43, helper H): an
// Observation whose device is the breathalyser the Part 2 program's
// department lends (Device/b2, owner Organization/u1 partOf p2) went to
// org-b whole (200). 404 now, labelled Part 2 for a consented caller; a
// reading of an ordinary hospital's device is byte-identical.
func TestDeviceMeasuredForProgramQA43H(t *testing.T) {
	t.Parallel()
	reading := func(id, device string) string {
		return `{"resourceType":"Observation","id":"` + id + `","status":"final","subject":{"reference":"Patient/p1"},` +
			`"code":{"text":"breath test"},"valueQuantity":{"value":0},"device":{"reference":"` + device + `"}}`
	}
	o2 := reading("o2", "Device/bh")
	entries := map[string]string{
		"/Observation/o1":  reading("o1", "Device/b2"),
		"/Observation/o2":  o2,
		"/Device/b2":       `{"resourceType":"Device","id":"b2","owner":{"reference":"Organization/u1"}}`,
		"/Device/bh":       `{"resourceType":"Device","id":"bh","owner":{"reference":"Organization/h1"}}`,
		"/Organization/u1": `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/h1": `{"resourceType":"Organization","id":"h1","name":"General"}`,
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if v, ok := entries[strings.TrimPrefix(r.URL.Path, "/fhir/R4")]; ok {
			fhirJSONHandler(http.StatusOK, v)(w, r)
			return
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}, withProgram)
	if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "breath") {
		t.Errorf("org-b, reading of the program's breathalyser: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
		t.Errorf("consented, the same: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/o2", tokOther); resp.StatusCode != http.StatusOK || body != o2 {
		t.Errorf("org-b, reading of an ordinary hospital's device: %d %s, want 200 unchanged", resp.StatusCode, body)
	}
}

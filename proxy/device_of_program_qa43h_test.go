package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDeviceOfProgramQA43H (QA round 43, helper H; helper A's note): a
// QuestionnaireResponse whose author is the Part 2 program's intake kiosk
// (Device/k2, owner Organization/u1, u1 partOf Organization/p2) went to
// org-b whole (200), and so did a search listing it: a Device was no
// directory entry, so its owner and location were never read. 404 to
// org-b now, held back from its search, labelled Part 2 for a consented
// caller; answers from an ordinary hospital's kiosk are byte-identical,
// and a site without programs reads no Device.
func TestDeviceOfProgramQA43H(t *testing.T) {
	t.Parallel()
	answers := func(id, device string) string {
		return `{"resourceType":"QuestionnaireResponse","id":"` + id + `","status":"completed","subject":{"reference":"Patient/p1"},` +
			`"author":{"reference":"` + device + `"},"item":[{"linkId":"1","text":"drinks a week","answer":[{"valueString":"none"}]}]}`
	}
	q1, q2 := answers("q1", "Device/k2"), answers("q2", "Device/kh")
	entries := map[string]string{
		"/QuestionnaireResponse/q1": q1,
		"/QuestionnaireResponse/q2": q2,
		"/QuestionnaireResponse": `{"resourceType":"Bundle","type":"searchset","total":2,"entry":[` +
			`{"fullUrl":"http://up/fhir/R4/QuestionnaireResponse/q1","resource":` + q1 + `,"search":{"mode":"match"}},` +
			`{"fullUrl":"http://up/fhir/R4/QuestionnaireResponse/q2","resource":` + q2 + `,"search":{"mode":"match"}}]}`,
		"/Device/k2":       `{"resourceType":"Device","id":"k2","owner":{"reference":"Organization/u1"}}`,
		"/Device/kh":       `{"resourceType":"Device","id":"kh","owner":{"reference":"Organization/h1"}}`,
		"/Organization/u1": `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"/Organization/h1": `{"resourceType":"Organization","id":"h1","name":"General"}`,
	}
	var deviceReads atomic.Int32
	upstream := func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/fhir/R4")
		if strings.HasPrefix(path, "/Device") {
			deviceReads.Add(1)
		}
		if v, ok := entries[path]; ok {
			fhirJSONHandler(http.StatusOK, v)(w, r)
			return
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}
	h := newHarness(t, upstream, withProgram)
	if resp, body := h.get("/fhir/QuestionnaireResponse/q1", tokOther); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "drinks") {
		t.Errorf("org-b, answers from the program's kiosk: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/QuestionnaireResponse?patient=Patient/p1", tokOther); resp.StatusCode != http.StatusOK ||
		strings.Contains(body, `"q1"`) || !strings.Contains(body, `"q2"`) {
		t.Errorf("org-b, search: %d %s, want q2 alone", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/QuestionnaireResponse/q1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
		t.Errorf("consented, the same: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/QuestionnaireResponse/q2", tokOther); resp.StatusCode != http.StatusOK || body != q2 {
		t.Errorf("org-b, answers from an ordinary hospital's kiosk: %d %s, want 200 unchanged", resp.StatusCode, body)
	}
	plain := newHarness(t, upstream)
	deviceReads.Store(0)
	if resp, body := plain.get("/fhir/QuestionnaireResponse/q1", tokOther); resp.StatusCode != http.StatusOK || body != q1 || deviceReads.Load() != 0 {
		t.Errorf("no programs: %d %s, %d Device reads; want 200 unchanged, none", resp.StatusCode, body, deviceReads.Load())
	}
}

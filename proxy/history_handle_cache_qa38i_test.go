package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestHistoryHandlePageDoesNotStandForCurrentQA38I: the second page of a
// type's history that the upstream names by a handle at its base (HAPI
// FHIR's ?_getpages=), followed by its page token, is routed as a search
// of the base; the older versions on it (Condition/c1 at version 1, HIV)
// were noted in the label cache as current, and stood for c1's current
// version (HIV and SUD): the order whose reason c1 is went to org-a
// labelled HIV and R, without SUD (the Part 2 label its notice and
// redisclosure rules hang on). The page's versions do not stand for the current
// ones, as a page asked for by Condition/_history's own path does not
// (TestHistoryDoesNotStandForCurrentQA28A).
func TestHistoryHandlePageDoesNotStandForCurrentQA38I(t *testing.T) {
	t.Parallel()
	v1 := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"}]}}`
	v2 := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"2"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	up := newRouted(map[string]string{
		"Condition/c1":          v2,
		"MedicationRequest/mr1": orderFor("mr1", "Condition/c1"),
		"Observation/bp1":       bpObs,
	})
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("_getpages") != "":
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","entry":[{"fullUrl":"http://x/fhir/R4/Condition/c1","resource":`+v1+
				`,"request":{"method":"POST","url":"Condition"},"response":{"status":"201"}}]}`)(w, r)
		case r.URL.Path == "/fhir/R4/Condition/_history":
			next := h.base() + "?_getpages=4f0a&_getpagesoffset=1&_count=1&_bundletype=history"
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","link":[{"relation":"next","url":"`+next+`"}],`+
				`"entry":[{"resource":`+bpObs+`,"request":{"method":"PUT","url":"Observation/bp1"}}]}`)(w, r)
		default:
			up.handle(w, r)
		}
	}, withCache)
	resp, body := h.get("/fhir/Condition/_history?_count=1", tokConsented)
	next := pageLinksOf(t, body)["next"]
	if resp.StatusCode != http.StatusOK || next == "" {
		t.Fatalf("history: %d %s", resp.StatusCode, body)
	}
	if resp, body = h.get(next[len(h.proxy.URL):], tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("history, page 2: %d %s", resp.StatusCode, body)
	}
	// Org-a may read it: the order carries its reason's labels, SUD
	// among them.
	if resp, body = h.get("/fhir/MedicationRequest/mr1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"code":"SUD"`) {
		t.Errorf("org-a's order whose reason is c1 (HIV and SUD now): %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("MedicationRequest", "mr1")) {
		t.Fatalf("org-b's order whose reason is c1 (SUD now): %d %s", resp.StatusCode, body)
	}
}

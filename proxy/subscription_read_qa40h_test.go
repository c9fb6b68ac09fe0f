package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A Subscription's criteria is a search, often of one patient's records by
// a code the label rules withhold (Condition?subject=Patient/p1&code=F11.20):
// the Condition answers org-b 404, the Subscription naming it answered 200
// with the criteria as stored (QA round 40, D's P1). Unless
// enforcement.allow_subscriptions, Subscriptions are read by nobody: a read,
// a search or a history of the type is refused before the upstream, and a
// Subscription in any other answer (a system search) is
// withheld.
func TestSubscriptionReadsRefusedQA40H(t *testing.T) {
	t.Parallel()
	sub := `{"resourceType":"Subscription","id":"s1","status":"active","reason":"watch","criteria":"Condition?subject=Patient/p1&code=F11.20","channel":{"type":"rest-hook","endpoint":"https://bot.example/hook"}}`
	up, reached := answeringCounted(sub)
	h := newHarness(t, up)
	for _, path := range []string{
		"/fhir/Subscription/s1",
		"/fhir/Subscription/s1/_history/1",
		"/fhir/Subscription/s1/_history",
		"/fhir/Subscription?status=active",
		"/fhir/Subscription?criteria=Condition?code=F11.20",
		"/fhir/Subscription/_history",
		"/fhir?_type=Subscription",
		"/fhir?_type=Patient,Subscription",
	} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "allow_subscriptions") || strings.Contains(body, "F11.20") {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("%d refused Subscription reads reached the upstream", n)
	}

	// A system search names no type, yet may answer one.
	bundle := `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://fhir.example/fhir/Subscription/s1","resource":` + sub + `,"search":{"mode":"match"}}]}`
	resp, body := newHarness(t, fhirJSONHandler(200, bundle)).get("/fhir?_lastUpdated=gt2020-01-01", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "F11.20") || strings.Contains(body, "Subscription/s1") {
		t.Errorf("system search: %d %s", resp.StatusCode, body)
	}

	// The site that lets callers make Subscriptions lets them read them.
	allowed := newHarness(t, up, func(o *Options, _ *Deps) { o.Requests.AllowSubscriptions = true })
	if resp, body := allowed.get("/fhir/Subscription/s1", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"criteria"`) {
		t.Fatalf("allow_subscriptions: %d %s", resp.StatusCode, body)
	}
}

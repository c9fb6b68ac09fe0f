package proxy

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

const (
	secSUD = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`
	secR   = `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`
	secV   = `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"V"}`
	// tokWriter has the label-writer role.
	tokWriter = "Organization/org-a|TREAT|user/*.* ds4p/label-writer"
	// tokOtherWriter may write but has no consent for Patient/p1.
	tokOtherWriter = "Organization/org-b|TREAT|user/*.*"
)

// storedSUD is the stored version of Condition/sud1: labelled SUD and R.
const storedSUD = `{"resourceType":"Condition","id":"sud1","meta":{"versionId":"3","security":[` + secSUD + `,` + secR + `]},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`

func conditionWith(security ...string) string {
	meta := ""
	if len(security) > 0 {
		meta = `"meta":{"security":[` + strings.Join(security, ",") + `]},`
	}
	return `{"resourceType":"Condition","id":"sud1",` + meta + `"subject":{"reference":"Patient/p1"},"clinicalStatus":{"text":"resolved"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
}

// writeUpstream stores Condition/sud1 and echoes writes; writes reaching it
// are counted.
type writeUpstream struct{ writes chan string }

func (u *writeUpstream) handler(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		if strings.HasSuffix(r.URL.Path, "/Condition/sud1") {
			fhirJSONHandler(200, storedSUD)(w, r)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/Patient/p1") { // the subject of the bodies written
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	u.writes <- r.Method + " " + r.URL.Path
	if r.Method == http.MethodDelete {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/R4") {
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[]}`)(w, r)
		return
	}
	if r.Method == http.MethodPatch {
		fhirJSONHandler(200, storedSUD)(w, r)
		return
	}
	fhirJSONHandler(200, string(b))(w, r)
}

func (h *harness) send(method, path, token, contentType, body string) (*http.Response, string) {
	h.t.Helper()
	return h.do(method, path, token, contentType, body)
}

func TestConditionalCreateRefused(t *testing.T) {
	t.Parallel()
	up := &writeUpstream{writes: make(chan string, 4)}
	h := newHarness(t, up.handler)
	req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/fhir/Condition", strings.NewReader(conditionWith()))
	req.Header.Set("Authorization", "Bearer "+tokAll)
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("If-None-Exist", "code=F11.20")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(up.writes) != 0 {
		t.Fatalf("conditional create: %d, %d writes reached the upstream", resp.StatusCode, len(up.writes))
	}
}

func TestWriteGuard(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const jp = "application/json-patch+json"
	fhirPatch := func(path string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"` + path + `"}]}]}`
	}
	batch := func(method, url, resource string) string {
		e := `{"request":{"method":"` + method + `","url":"` + url + `"}`
		if resource != "" {
			e += `,"resource":` + resource
		}
		return `{"resourceType":"Bundle","type":"batch","entry":[` + e + `}]}`
	}
	binPatch := `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` +
		base64.StdEncoding.EncodeToString([]byte(`[{"op":"remove","path":"/meta/security/0"}]`)) + `"}`
	cases := []struct {
		name, method, path, token, ctype, body string
		status                                 int // 0: forwarded
	}{
		{"create without labels", "POST", "/fhir/Condition", tokAll, fj, conditionWith(), 0},
		{"create with labels needs the role", "POST", "/fhir/Condition", tokAll, fj, conditionWith(secSUD), 403},
		{"create with labels by a label writer", "POST", "/fhir/Condition", tokWriter, fj, conditionWith(secSUD), 0},
		{"create with bad JSON", "POST", "/fhir/Condition", tokAll, fj, `{"resourceType":"Condition",`, 400},
		{"create of another type", "POST", "/fhir/Condition", tokAll, fj, `{"resourceType":"Patient"}`, 400},
		{"update keeping the labels", "PUT", "/fhir/Condition/sud1", tokAll, fj, conditionWith(secSUD, secR), 0},
		{"update keeping labels and a read's obligations", "PUT", "/fhir/Condition/sud1", tokAll, fj,
			conditionWith(secSUD, secR, `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}`), 0},
		{"update stripping the labels", "PUT", "/fhir/Condition/sud1", tokAll, fj, conditionWith(), 403},
		{"update stripping one label", "PUT", "/fhir/Condition/sud1", tokAll, fj, conditionWith(secSUD), 403},
		{"update adding a label", "PUT", "/fhir/Condition/sud1", tokAll, fj, conditionWith(secSUD, secR, secV), 403},
		{"update stripping labels by a label writer", "PUT", "/fhir/Condition/sud1", tokWriter, fj, conditionWith(), 0},
		{"update of a resource the caller may not read", "PUT", "/fhir/Condition/sud1", tokOtherWriter, fj, conditionWith(secSUD, secR), 404},
		{"update of a missing resource", "PUT", "/fhir/Condition/nope", tokAll, fj, strings.Replace(conditionWith(), "sud1", "nope", 1), 404},
		{"update with another id", "PUT", "/fhir/Condition/sud1", tokAll, fj, strings.Replace(conditionWith(secSUD, secR), "sud1", "x", 1), 400},
		{"conditional update", "PUT", "/fhir/Condition?code=F11.20", tokAll, fj, conditionWith(), 400},
		{"json patch of status", "PATCH", "/fhir/Condition/sud1", tokAll, jp, `[{"op":"add","path":"/clinicalStatus","value":{"text":"x"}}]`, 0},
		{"json patch of meta.security", "PATCH", "/fhir/Condition/sud1", tokAll, jp, `[{"op":"remove","path":"/meta/security"}]`, 403},
		{"json patch moving from meta", "PATCH", "/fhir/Condition/sud1", tokAll, jp, `[{"op":"move","from":"/meta","path":"/x"}]`, 403},
		{"json patch of meta by a label writer", "PATCH", "/fhir/Condition/sud1", tokWriter, jp, `[{"op":"remove","path":"/meta/security"}]`, 0},
		{"json patch with bad JSON", "PATCH", "/fhir/Condition/sud1", tokAll, jp, `[{"op":`, 400},
		{"fhirpath patch of meta.security", "PATCH", "/fhir/Condition/sud1", tokAll, fj, fhirPatch("Condition.meta.security"), 403},
		{"fhirpath patch of note", "PATCH", "/fhir/Condition/sud1", tokAll, fj, fhirPatch("Condition.note"), 0},
		{"patch of a resource the caller may not read", "PATCH", "/fhir/Condition/sud1", tokOtherWriter, jp, `[{"op":"remove","path":"/note"}]`, 404},
		{"delete of a resource the caller may not read", "DELETE", "/fhir/Condition/sud1", tokOtherWriter, fj, "", 404},
		{"delete", "DELETE", "/fhir/Condition/sud1", tokAll, fj, "", 0},
		{"batch conditional create", "POST", "/fhir", tokAll, fj, strings.Replace(batch("POST", "Condition", conditionWith()), `"url":"Condition"`, `"url":"Condition","ifNoneExist":"code=F11.20"`, 1), 400},
		{"conditional delete", "DELETE", "/fhir/Condition?code=F11.20", tokAll, fj, "", 400},
		{"meta-delete needs the role", "POST", "/fhir/Condition/sud1/$meta-delete", tokAll, fj, `{"resourceType":"Parameters"}`, 403},
		{"batch update stripping labels", "POST", "/fhir", tokAll, fj, batch("PUT", "Condition/sud1", conditionWith()), 403},
		{"batch create with labels", "POST", "/fhir", tokAll, fj, batch("POST", "Condition", conditionWith(secSUD)), 403},
		{"batch binary patch of meta", "POST", "/fhir", tokAll, fj, batch("PATCH", "Condition/sud1", binPatch), 403},
		{"batch search with _has", "POST", "/fhir", tokAll, fj, batch("GET", "Patient?_has:Condition:patient:code=F10.20", ""), 400},
		{"batch search stripped params", "POST", "/fhir", tokAll, fj, batch("GET", "Condition?_elements=id", ""), 400},
		{"batch delete of a resource the caller may not read", "POST", "/fhir", tokOtherWriter, fj, batch("DELETE", "Condition/sud1", ""), 404},
		{"batch update keeping labels", "POST", "/fhir", tokAll, fj, batch("PUT", "Condition/sud1", conditionWith(secSUD, secR)), 0},
		{"batch with bad JSON", "POST", "/fhir", tokAll, fj, `{"resourceType":"Bundle","entry":[`, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := &writeUpstream{writes: make(chan string, 4)}
			h := newHarness(t, up.handler)
			resp, body := h.send(c.method, c.path, c.token, c.ctype, c.body)
			if c.status == 0 {
				if resp.StatusCode >= 300 {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
				if len(up.writes) != 1 {
					t.Fatalf("the write did not reach the upstream: %d %s", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != c.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, body, c.status)
			}
			if c.status == 404 && body != string(notFoundBody("Condition", "sud1")) && !strings.Contains(c.path, "nope") {
				t.Fatalf("refused as withheld, but not as a missing read answers: %s", body)
			}
			if len(up.writes) != 0 {
				t.Fatalf("a refused write reached the upstream: %s", <-up.writes)
			}
		})
	}
}

// TestWriteResponseGoesThroughPipeline: what the upstream echoes after a
// write is labelled and decided like any response; a caller without consent
// who creates a SUD record does not get it echoed back.
func TestWriteResponseGoesThroughPipeline(t *testing.T) {
	t.Parallel()
	up := &writeUpstream{writes: make(chan string, 4)}
	h := newHarness(t, up.handler)
	for tok, disclosed := range map[string]bool{tokOtherWriter: false, tokAll: true} {
		resp, body := h.send(http.MethodPost, "/fhir/Condition", tok, "application/fhir+json", conditionWith())
		if len(up.writes) != 1 {
			t.Fatalf("the create did not reach the upstream: %d %s", resp.StatusCode, body)
		}
		<-up.writes
		if got := strings.Contains(body, "F11.20"); got != disclosed {
			t.Errorf("%s: echoed SUD record disclosed=%v: %d %s", tok, got, resp.StatusCode, body)
		}
		if disclosed && !strings.Contains(body, `"code":"SUD"`) {
			t.Errorf("echo without the labels the pipeline adds: %s", body)
		}
	}
}

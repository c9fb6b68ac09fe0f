package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// emergencyWriterAuth is an emergency clinician who may write: the token of
// breakGlassAuth with write scopes (and the label-writer role, for
// $meta-add). Token "noclaim" is the same clinician without the claim.
type emergencyWriterAuth struct{}

func (emergencyWriterAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	iat := time.Now().Add(-time.Minute)
	c := authn.Caller{
		Subject: "dr-er", Org: "Organization/er", Purposes: []string{"ETREAT"}, BreakGlass: "unresponsive, suspected overdose",
		Scopes: []string{"user/*.*", LabelWriterScope}, IssuedAt: iat, Expiry: iat.Add(15 * time.Minute),
	}
	if raw == "noclaim" {
		c.BreakGlass = ""
	}
	return c, nil
}

// emergencyStore holds Condition/p2c (p1's Part 2 record, which org er may
// read only under the emergency) and Condition/ok1 (an ordinary one of p1's
// it may read without), and counts the writes reaching it.
type emergencyStore struct{ writes chan string }

const ordinaryCondition = `{"resourceType":"Condition","id":"ok1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]}}`

func (u *emergencyStore) handler(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Condition/p2c"):
			fhirJSONHandler(200, part2Condition)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Condition/ok1"):
			fhirJSONHandler(200, ordinaryCondition)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
		return
	}
	b, _ := io.ReadAll(r.Body)
	u.writes <- r.Method + " " + r.URL.Path
	switch {
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/R4"):
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200"}}]}`)(w, r)
	case strings.Contains(r.URL.Path, "$meta"):
		fhirJSONHandler(200, `{"resourceType":"Parameters","parameter":[{"name":"return","valueMeta":{}}]}`)(w, r)
	case r.Method == http.MethodPatch:
		fhirJSONHandler(200, part2Condition)(w, r)
	default:
		fhirJSONHandler(200, string(b))(w, r)
	}
}

// TestEmergencyGivesNoWriteQA39I: 42 CFR 2.51 lets a program disclose a
// record to medical personnel in a bona fide medical emergency; it does
// not let them change or delete it. A clinician with write scopes whose
// valid emergency claim (ETREAT, a reason, within the time box) makes
// p1's Part 2 Condition readable could PUT, PATCH or DELETE it, in a
// batch too, and change its labels with $meta-add: the write guards
// decided the stored version with the claim. A write is decided without
// it: one the caller could not make without the claim is refused (403,
// nothing written), reads stay as they are, and writes of what the caller
// may read without the claim still go.
func TestEmergencyGivesNoWriteQA39I(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	up := &emergencyStore{writes: make(chan string, 32)}
	h := newHarness(t, up.handler, func(_ *Options, d *Deps) { d.Auth = emergencyWriterAuth{} })
	if resp, body := h.get("/fhir/Condition/p2c", "bg"); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
		t.Fatalf("emergency read of the Part 2 record: %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.get("/fhir/Condition/p2c", "noclaim"); resp.StatusCode != 404 {
		t.Fatalf("the same clinician without the claim reads the Part 2 record: %d, want 404", resp.StatusCode)
	}
	p2cBody := strings.Replace(part2Condition, `"code":{`, `"clinicalStatus":{"text":"resolved"},"code":{`, 1)
	jsonPatch := `[{"op":"add","path":"/clinicalStatus","value":{"text":"resolved"}}]`
	fhirPathPatch := `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Condition"},{"name":"name","valueString":"note"},{"name":"value","valueAnnotation":{"text":"x"}}]}]}`
	batch := func(method, url, resource string) string {
		e := `{"request":{"method":"` + method + `","url":"` + url + `"}`
		if resource != "" {
			e += `,"resource":` + resource
		}
		return `{"resourceType":"Bundle","type":"batch","entry":[` + e + `}]}`
	}
	binPatch := `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + base64.StdEncoding.EncodeToString([]byte(jsonPatch)) + `"}`
	metaAdd := `{"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"tag":[{"system":"http://example.org/t","code":"x"}]}}]}`
	refused := []struct{ name, method, path, ctype, body string }{
		{"update", "PUT", "/fhir/Condition/p2c", fj, p2cBody},
		{"JSON Patch", "PATCH", "/fhir/Condition/p2c", "application/json-patch+json", jsonPatch},
		{"FHIRPath Patch", "PATCH", "/fhir/Condition/p2c", fj, fhirPathPatch},
		{"delete", "DELETE", "/fhir/Condition/p2c", "", ""},
		{"batch update", "POST", "/fhir", fj, batch("PUT", "Condition/p2c", p2cBody)},
		{"batch patch", "POST", "/fhir", fj, batch("PATCH", "Condition/p2c", binPatch)},
		{"batch delete", "POST", "/fhir", fj, batch("DELETE", "Condition/p2c", "")},
		{"transaction delete", "POST", "/fhir", fj, strings.Replace(batch("DELETE", "Condition/p2c", ""), `"batch"`, `"transaction"`, 1)},
		{"$meta-add", "POST", "/fhir/Condition/p2c/$meta-add", fj, metaAdd},
		{"$meta-delete", "POST", "/fhir/Condition/p2c/$meta-delete", fj, metaAdd},
	}
	for _, c := range refused {
		resp, body := h.send(c.method, c.path, "bg", c.ctype, c.body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "OperationOutcome") || !strings.Contains(body, "emergency") {
			t.Errorf("%s of the Part 2 record readable only under the emergency: %d %s, want 403 naming the emergency", c.name, resp.StatusCode, body)
		}
		// Without the claim it is missing to the caller, as before.
		if resp, _ := h.send(c.method, c.path, "noclaim", c.ctype, c.body); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without the claim: %d, want 404", c.name, resp.StatusCode)
		}
	}
	if n := len(up.writes); n != 0 {
		t.Fatalf("%d writes of the Part 2 record reached the upstream", n)
	}
	// What the clinician may read without the claim it may still write
	// under it.
	okBody := strings.Replace(ordinaryCondition, `"code":{`, `"clinicalStatus":{"text":"resolved"},"code":{`, 1)
	allowed := []struct{ name, method, path, ctype, body string }{
		{"update", "PUT", "/fhir/Condition/ok1", fj, okBody},
		{"delete", "DELETE", "/fhir/Condition/ok1", "", ""},
		{"batch update", "POST", "/fhir", fj, batch("PUT", "Condition/ok1", okBody)},
		{"$meta-add", "POST", "/fhir/Condition/ok1/$meta-add", fj, metaAdd},
	}
	for _, c := range allowed {
		if resp, body := h.send(c.method, c.path, "bg", c.ctype, c.body); resp.StatusCode/100 != 2 {
			t.Errorf("%s of an ordinary record under the emergency: %d %s, want it forwarded", c.name, resp.StatusCode, body)
		}
	}
	if n := len(up.writes); n != len(allowed) {
		t.Errorf("%d writes of the ordinary record reached the upstream, want %d", n, len(allowed))
	}
}

// TestSimulatedEmergencyWriteQA39I: /admin/decide simulating an update,
// patch or delete by an emergency clinician decides as the write guard
// does, without the claim, and says so; a read keeps it.
func TestSimulatedEmergencyWriteQA39I(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for interaction, want := range map[string]string{"read": "permit", "search": "permit", "create": "permit", "update": "deny", "patch": "deny", "delete": "deny"} {
		body := strings.Replace(decideBody("Organization/er", "ETREAT", "cardiac arrest", "", part2Condition), `"time":`, `"interaction":"`+interaction+`","time":`, 1)
		resp, out := h.post("/admin/decide", tokAdmin, body)
		var got DecideResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(out), &got) != nil || len(got.Items) != 1 {
			t.Fatalf("%s: %d %s", interaction, resp.StatusCode, out)
		}
		d := got.Items[0].Decision
		if d.Effect != want || d.BreakGlass != (want == "permit") {
			t.Errorf("simulated emergency %s of the Part 2 record: %s, want %s", interaction, out, want)
		}
		warned := strings.Contains(strings.Join(got.Warnings, " "), "without the break_glass claim")
		if warned != (want == "deny") {
			t.Errorf("simulated emergency %s: warnings %q", interaction, got.Warnings)
		}
	}
}

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
)

// Request-side enforcement against the real upstream: searches the proxy
// refuses, page tokens, writes and bulk export (proxy/searchguard.go,
// paging.go, writeguard.go).
func init() {
	register("RequestSearchesRefused", testRequestSearchesRefused)
	register("RequestPageTokens", testRequestPageTokens)
	register("RequestWritesKeepLabels", testRequestWritesKeepLabels)
}

// mint makes a token for this scenario with `ds4p token`.
func (e *env) mint(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(e.bin, append([]string{"token", "--data", e.data}, args...)...).Output()
	if err != nil {
		t.Fatalf("ds4p token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// sudCode is system|code of one of the SUD patient's SUD Conditions.
func (e *env) sudCode(t *testing.T) string {
	t.Helper()
	for _, r := range e.ds.ByPatient(sudPatient) {
		if r.Type != "Condition" || !strings.Contains(strings.Join(r.Topics, ","), "SUD") {
			continue
		}
		var c struct {
			Code struct {
				Coding []struct{ System, Code string }
			}
		}
		if err := json.Unmarshal(r.JSON, &c); err == nil && len(c.Code.Coding) > 0 {
			return c.Code.Coding[0].System + "|" + c.Code.Coding[0].Code
		}
	}
	t.Fatal("no SUD Condition with a code for the SUD patient")
	return ""
}

func outcomeCode(t *testing.T, r response) string {
	t.Helper()
	var oo struct {
		ResourceType string
		Issue        []struct{ Code string }
	}
	if err := json.Unmarshal(r.Body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome (%d): %s", r.Status, r.Body)
	}
	return oo.Issue[0].Code
}

func testRequestSearchesRefused(t *testing.T, e *env) {
	code := e.sudCode(t)
	_, bare, _ := strings.Cut(code, "|")
	pat := strings.TrimPrefix(sudPatient, "Patient/")
	refused := []struct {
		url    string
		status int
		why    string // in the OperationOutcome's diagnostics
	}{
		{"/fhir/Patient?_has:Condition:patient:code=" + url.QueryEscape(bare), 400, "_has"},
		{"/fhir/Patient?_id=" + pat + "&_has:Condition:patient:code=" + url.QueryEscape(code), 400, "_has"},
		{"/fhir/Condition?code=" + url.QueryEscape(code) + "&_include=Condition:patient", 400, "sensitive code"},
		{"/fhir/Condition?code=" + url.QueryEscape(bare) + "&_include=Condition:subject", 400, "sensitive code"},
		{"/fhir/Condition?subject:Patient.name=x", 400, "chained"},
		{"/fhir/Condition?subject=" + sudPatient + "&_summary=count", 400, "_summary=count"},
		{"/fhir/Patient/$export", 403, "$export"},
		{"/fhir/$export", 403, "$export"},
		{"/fhir/Condition?subject=" + sudPatient + "&_getpages=x", 400, "_getpages"},
	}
	for _, c := range refused {
		for _, caller := range []string{"consented", "other"} {
			r := e.get(t, c.url, caller)
			if r.Status != c.status || !bytes.Contains(r.Body, []byte(c.why)) {
				t.Errorf("%s %s: %d %s, want %d naming %s", caller, c.url, r.Status, r.Body, c.status, c.why)
				continue
			}
			_ = outcomeCode(t, r)
			if bytes.Contains(r.Body, []byte(pat)) {
				t.Errorf("%s %s: the refusal names the patient: %s", caller, c.url, r.Body)
			}
		}
	}
	// The same code search without _include: nothing of the SUD patient
	// reaches a caller without consent, no Patient at all.
	r := e.get(t, "/fhir/Condition?code="+url.QueryEscape(code)+"&_count=200", "other")
	if r.Status != http.StatusOK {
		t.Fatalf("code search: %d %s", r.Status, r.Body)
	}
	got := ids(t, r.json(t))
	if l := leaked(e.sensitive(sudPatient), got); len(l) > 0 || bytes.Contains(r.Body, []byte(`"resourceType":"Patient"`)) {
		t.Errorf("code search disclosed %v / a Patient: %s", l, r.Body)
	}
	// _elements, _summary=true and _total are dropped: the caller gets whole,
	// labelled resources.
	r = e.get(t, "/fhir/Condition?subject="+sudPatient+"&_elements=id&_summary=true&_total=accurate", "consented")
	if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte(`"code":"SUD"`)) || !bytes.Contains(r.Body, []byte(`"subject"`)) {
		t.Errorf("stripped search: %d %s", r.Status, r.Body)
	}
}

func testRequestPageTokens(t *testing.T, e *env) {
	upHost := strings.TrimPrefix(e.upstream.BaseURL, "http://")
	r := e.get(t, "/fhir/Condition?subject="+sudPatient+"&_count=1", "consented")
	if r.Status != http.StatusOK {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	if bytes.Contains(r.Body, []byte(upHost)) || bytes.Contains(r.Body, []byte("/fhir/R4")) {
		t.Fatalf("the searchset names the upstream: %s", r.Body)
	}
	b := r.json(t)
	links, _ := b["link"].([]any)
	if len(links) == 0 {
		t.Fatal("no links")
	}
	for _, l := range links {
		u, _ := l.(map[string]any)["url"].(string)
		if !strings.HasPrefix(u, e.proxy+"/fhir/_page/") || strings.Contains(u, "?") || strings.Contains(u, "pat-0") {
			t.Fatalf("link %q is not an opaque page URL of the proxy", u)
		}
	}
	next := nextLink(t, b)
	if next == "" {
		t.Fatal("no next link with _count=1")
	}
	if r := e.get(t, next, "consented"); r.Status != http.StatusOK || countPrefix(ids(t, r.json(t)), "Condition/") != 1 {
		t.Fatalf("following next: %d %s", r.Status, r.Body)
	}
	r = e.get(t, next, "other")
	if r.Status != http.StatusNotFound || bytes.Contains(r.Body, []byte("pat-0")) {
		t.Fatalf("another caller replaying the token: %d %s", r.Status, r.Body)
	}
	// The same subject with other scopes is another caller too.
	narrower := e.mint(t, "--sub", "dr-a", "--org", orgConsented, "--purpose", "TREAT", "--scope", "user/Condition.read")
	if r := e.do(t, http.MethodGet, next, narrower, nil); r.Status != http.StatusNotFound {
		t.Fatalf("same subject, other scopes: %d %s", r.Status, r.Body)
	}
	tampered := []byte(next)
	i := len(tampered) - 5
	if tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	if r := e.get(t, string(tampered), "consented"); r.Status != http.StatusBadRequest || outcomeCode(t, r) != "invalid" {
		t.Fatalf("tampered token: %d %s", r.Status, r.Body)
	}
	if r := e.get(t, e.proxy+"/fhir/_page/"+strings.Repeat("A", 64), "consented"); r.Status != http.StatusBadRequest {
		t.Fatalf("forged token: %d %s", r.Status, r.Body)
	}
}

// labelledCondition is a stored Condition of the SUD patient labelled SUD
// and R at the source.
const labelledCondition = `{"resourceType":"Condition","id":"req-sud-1","meta":{"security":[` +
	`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},` +
	`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},` +
	`"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},` +
	`"subject":{"reference":"Patient/pat-0"},"code":{"text":"counselling note"}}`

func testRequestWritesKeepLabels(t *testing.T, e *env) {
	e.upstream.Put(t, []byte(labelledCondition))
	writer := e.mint(t, "--sub", "dr-w", "--org", orgConsented, "--purpose", "TREAT", "--scope", "user/*.*")
	labeller := e.mint(t, "--sub", "dr-l", "--org", orgConsented, "--purpose", "TREAT", "--scope", "user/*.* ds4p/label-writer")
	outsider := e.mint(t, "--sub", "dr-o", "--org", orgOther, "--purpose", "TREAT", "--scope", "user/*.*")
	send := func(method, path, token, body string) response {
		return e.do(t, method, path, token, strings.NewReader(body), "Content-Type", "application/fhir+json")
	}
	unlabelled := strings.Replace(labelledCondition, `"meta":{"security":[`+
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},`+
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},`, "", 1)

	if r := send(http.MethodPut, "/fhir/Condition/req-sud-1", writer, unlabelled); r.Status != http.StatusForbidden || !bytes.Contains(r.Body, []byte("remove security labels")) {
		t.Errorf("update stripping labels: %d %s", r.Status, r.Body)
	}
	if r := send(http.MethodPut, "/fhir/Condition/req-sud-1", outsider, labelledCondition); r.Status != http.StatusNotFound {
		t.Errorf("update by a caller who may not read it: %d %s", r.Status, r.Body)
	}
	e.assertStoredLabels(t, "req-sud-1")

	// Read, change, write back what the read returned: allowed without the role.
	r := e.do(t, http.MethodGet, "/fhir/Condition/req-sud-1", writer, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	edited := bytes.Replace(r.Body, []byte(`"code":"active"`), []byte(`"code":"remission"`), 1)
	if r := send(http.MethodPut, "/fhir/Condition/req-sud-1", writer, string(edited)); r.Status != http.StatusOK {
		t.Errorf("read-modify-write keeping the labels: %d %s", r.Status, r.Body)
	}
	e.assertStoredLabels(t, "req-sud-1")

	created := strings.Replace(labelledCondition, "req-sud-1", "req-sud-2", 1)
	if r := send(http.MethodPost, "/fhir/Condition", writer, created); r.Status != http.StatusForbidden || !bytes.Contains(r.Body, []byte("ds4p/label-writer")) {
		t.Errorf("create with labels without the role: %d %s", r.Status, r.Body)
	}
	if r := send(http.MethodPost, "/fhir/Condition", labeller, created); r.Status != http.StatusCreated {
		t.Errorf("create with labels by a label writer: %d %s", r.Status, r.Body)
	} else if !bytes.Contains(r.Body, []byte(`"code":"SUD"`)) {
		t.Errorf("the created resource echoed back without its labels: %s", r.Body)
	}
	if r := e.do(t, http.MethodPatch, "/fhir/Condition/req-sud-1", writer, strings.NewReader(`[{"op":"remove","path":"/meta/security"}]`), "Content-Type", "application/json-patch+json"); r.Status != http.StatusForbidden || !bytes.Contains(r.Body, []byte("ds4p/label-writer")) {
		t.Errorf("patch of meta.security: %d %s", r.Status, r.Body)
	}
	if r := send(http.MethodPost, "/fhir", writer, `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"PUT","url":"Condition/req-sud-1"},"resource":`+unlabelled+`}]}`); r.Status != http.StatusForbidden || !bytes.Contains(r.Body, []byte("remove security labels")) {
		t.Errorf("batch update stripping labels: %d %s", r.Status, r.Body)
	}
	e.assertStoredLabels(t, "req-sud-1")
}

// assertStoredLabels reads the resource straight from the upstream and
// checks it still has its SUD and R labels.
func (e *env) assertStoredLabels(t *testing.T, id string) {
	t.Helper()
	resp, err := http.Get(e.upstream.BaseURL + "/Condition/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"code":"SUD"`)) || !bytes.Contains(b, []byte(`"code":"R"`)) {
		t.Fatalf("stored Condition/%s lost its labels: %d %s", id, resp.StatusCode, b)
	}
}

func countPrefix(ids []string, prefix string) int {
	n := 0
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			n++
		}
	}
	return n
}

package proxy

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
)

// queryUpstream is writeUpstream recording the query of each write too.
type queryUpstream struct {
	writeUpstream
	mu      sync.Mutex
	queries []string
}

func (u *queryUpstream) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		u.mu.Lock()
		u.queries = append(u.queries, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		u.mu.Unlock()
	}
	u.handler(w, r)
}

// TestWriteQueryParamsRefusedQA27E: a create, update, patch, delete or
// batch whose query holds a parameter FHIR does not define for a write (a
// server's own: Medplum's _account sets the owner of what is created; a
// search parameter that HAPI reads as a conditional update's criteria) is
// refused with a 400 naming it and nothing reaches the upstream, on its
// own and as a batch entry. _format and _pretty still go.
func TestWriteQueryParamsRefusedQA27E(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	create := strings.Replace(conditionWith(), `"id":"sud1",`, "", 1)
	entry := func(method, url, resource string) string {
		r := ""
		if resource != "" {
			r = `"resource":` + resource + `,`
		}
		return `{"resourceType":"Bundle","type":"batch","entry":[{` + r + `"request":{"method":"` + method + `","url":"` + url + `"}}]}`
	}
	patch := `[{"op":"add","path":"/clinicalStatus","value":{"text":"active"}}]`
	cases := []struct{ name, method, path, ctype, body, param string }{
		{"create _account", "POST", "/fhir/Condition?_account=Organization/o9", fj, create, "_account"},
		{"create beside _format", "POST", "/fhir/Condition?_format=json&_account=Organization/o9", fj, create, "_account"},
		{"create other case", "POST", "/fhir/Condition?_Account=Organization/o9", fj, create, "_Account"},
		{"update _account", "PUT", "/fhir/Condition/sud1?_account=Organization/o9", fj, conditionWith(secSUD, secR), "_account"},
		{"update with criteria", "PUT", "/fhir/Condition/sud1?code=F11.20", fj, conditionWith(secSUD, secR), "code"},
		{"patch with criteria", "PATCH", "/fhir/Condition/sud1?subject=Patient/p1", "application/json-patch+json", patch, "subject"},
		{"delete _account", "DELETE", "/fhir/Condition/sud1?_account=Organization/o9", "", "", "_account"},
		{"batch _account", "POST", "/fhir?_account=Organization/o9", fj, entry("POST", "Condition", create), "_account"},
		{"entry create _account", "POST", "/fhir", fj, entry("POST", "Condition?_account=Organization/o9", create), "_account"},
		{"entry update criteria", "POST", "/fhir", fj, entry("PUT", "Condition/sud1?code=F11.20", conditionWith(secSUD, secR)), "code"},
		{"entry delete _account", "POST", "/fhir", fj, entry("DELETE", "Condition/sud1?_account=Organization/o9", ""), "_account"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := &queryUpstream{writeUpstream: writeUpstream{writes: make(chan string, 4)}}
			h := newHarness(t, up.handle)
			resp, got := h.send(c.method, c.path, tokAll, c.ctype, c.body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, `\"`+c.param+`\"`) || !strings.Contains(got, "OperationOutcome") {
				t.Fatalf("want 400 naming %s: %d %s", c.param, resp.StatusCode, got)
			}
			if len(up.writes) != 0 {
				t.Fatalf("the write reached the upstream: %v", up.queries)
			}
		})
	}
	t.Run("format and pretty go", func(t *testing.T) {
		t.Parallel()
		up := &queryUpstream{writeUpstream: writeUpstream{writes: make(chan string, 4)}}
		h := newHarness(t, up.handle)
		resp, got := h.send("POST", "/fhir/Condition?_format=json&_pretty=true", tokAll, fj, create)
		if resp.StatusCode >= 300 || len(up.queries) != 1 || !strings.Contains(up.queries[0], "_pretty=true") {
			t.Fatalf("a create with _format and _pretty: %d %s %v", resp.StatusCode, got, up.queries)
		}
	})
}

// TestPatchMayNotMoveResourceQA27E: a patch that gives the resource another
// id or resourceType is refused (422) before anything reaches the
// upstream, label-writer or not: Medplum stores a patch's result under the
// id and type the result has, so PATCH Observation/o1 (which the caller
// sees whole, so the patch went as it was) with replace /id wrote over
// another Observation the proxy never checked. A patch of other members
// still goes.
func TestPatchMayNotMoveResourceQA27E(t *testing.T) {
	t.Parallel()
	const jp = "application/json-patch+json"
	const fj = "application/fhir+json"
	const writer = tokAll + " " + LabelWriterScope
	const obs = `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"},"contained":[{"resourceType":"Observation","id":"c1","status":"final","code":{"text":"x"}}]}`
	fp := func(parts string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `]}]}`
	}
	other := strings.Replace(obs, `"id":"o1"`, `"id":"o9"`, 1)
	store := func() *storeUpstream {
		return newStoreUpstream(map[string]string{"Observation/o1": obs, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	}
	cases := []struct{ name, tok, ctype, body string }{
		{"replace id", tokAll, jp, `[{"op":"replace","path":"/id","value":"o9"}]`},
		{"add id", tokAll, jp, `[{"op":"add","path":"/id","value":"o9"}]`},
		{"remove id", tokAll, jp, `[{"op":"remove","path":"/id"}]`},
		{"replace type", tokAll, jp, `[{"op":"replace","path":"/resourceType","value":"Condition"}]`},
		{"replace root", writer, jp, `[{"op":"replace","path":"","value":` + other + `}]`},
		{"add root", writer, jp, `[{"op":"add","path":"/","value":` + other + `}]`},
		{"fhirpath id", writer, fj, fp(`{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.id"},{"name":"value","valueId":"o9"}`)},
		{"fhirpath add id", writer, fj, fp(`{"name":"type","valueCode":"add"},{"name":"path","valueString":"Observation"},{"name":"name","valueString":"id"},{"name":"value","valueId":"o9"}`)},
		{"fhirpath id as code", tokAll, fj, fp(`{"name":"type","valueCode":"replace"},{"name":"path","valueCode":" Observation.id "},{"name":"value","valueId":"o9"}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send("PATCH", "/fhir/Observation/o1", c.tok, c.ctype, c.body)
			up.mu.Lock()
			n := len(up.patches) + len(up.ifMatch)
			up.mu.Unlock()
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "id or resourceType") || n != 0 {
				t.Fatalf("want 422 and no write: %d %s (%d writes)", resp.StatusCode, got, n)
			}
		})
	}
	t.Run("in a batch", func(t *testing.T) {
		t.Parallel()
		up := store()
		h := newHarness(t, up.handler)
		bin := `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/id","value":"o9"}]`)) + `"}`
		batch := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + bin + `,"request":{"method":"PATCH","url":"Observation/o1"}}]}`
		resp, got := h.send("POST", "/fhir", tokAll, fj, batch)
		up.mu.Lock()
		n := len(up.patches) + len(up.ifMatch)
		up.mu.Unlock()
		if resp.StatusCode != http.StatusUnprocessableEntity || n != 0 {
			t.Fatalf("want 422 and no write: %d %s", resp.StatusCode, got)
		}
	})
	for name, body := range map[string]string{
		"other member": `[{"op":"replace","path":"/status","value":"amended"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send("PATCH", "/fhir/Observation/o1", writer, jp, body)
			if resp.StatusCode != http.StatusOK || len(up.patches) != 1 {
				t.Fatalf("a patch keeping id and type: %d %s", resp.StatusCode, got)
			}
		})
	}
}

// TestServerMetaRefusedQA27E: a create, update, patch or batch entry
// writing a member of meta that FHIR's Meta does not define (Medplum's
// account, accounts, author, project: the server takes them from the body,
// and meta.account decides who may read the resource there) is refused
// with a 400 naming it and nothing reaches the upstream. An update that
// keeps such a member as stored (a read-modify-write) goes, and so do
// FHIR's own members.
func TestServerMetaRefusedQA27E(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const jp = "application/json-patch+json"
	const writer = tokAll + " " + LabelWriterScope
	obs := func(meta string) string {
		return `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"` + meta + `},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"}}`
	}
	create := func(meta string) string {
		return `{"resourceType":"Observation","meta":{` + meta + `},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"}}`
	}
	const acct = `,"account":{"reference":"Organization/own"}`
	fhirPath := func(parts string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `]}]}`
	}
	store := func() *storeUpstream {
		return newStoreUpstream(map[string]string{"Observation/o1": obs(acct), "Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Organization/own": `{"resourceType":"Organization","id":"own"}`})
	}
	entry := func(resource string) string {
		return `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + resource + `,"request":{"method":"POST","url":"Observation"}}]}`
	}
	cases := []struct{ name, method, path, tok, ctype, body, member string }{
		{"create account", "POST", "/fhir/Observation", tokAll, fj, create(`"account":{"reference":"Organization/x"}`), "account"},
		{"create accounts", "POST", "/fhir/Observation", tokAll, fj, create(`"accounts":[{"reference":"Organization/x"}]`), "accounts"},
		{"create author", "POST", "/fhir/Observation", tokAll, fj, create(`"author":{"reference":"Practitioner/x"}`), "author"},
		{"create project", "POST", "/fhir/Observation", tokAll, fj, create(`"project":"p2"`), "project"},
		{"update changes account", "PUT", "/fhir/Observation/o1", tokAll, fj, obs(`,"account":{"reference":"Organization/x"}`), "account"},
		{"update adds accounts", "PUT", "/fhir/Observation/o1", tokAll, fj, obs(acct + `,"accounts":[{"reference":"Organization/x"}]`), "accounts"},
		{"patch adds account", "PATCH", "/fhir/Observation/o1", writer, jp, `[{"op":"replace","path":"/meta/account","value":{"reference":"Organization/x"}}]`, "account"},
		{"patch writes meta", "PATCH", "/fhir/Observation/o1", writer, jp, `[{"op":"add","path":"/meta","value":{"accounts":[]}}]`, "accounts"},
		{"batch entry", "POST", "/fhir", tokAll, fj, entry(create(`"account":{"reference":"Organization/x"}`)), "account"},
		{"fhirpath path", "PATCH", "/fhir/Observation/o1", writer, fj, fhirPath(`{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.meta.account"},{"name":"value","valueReference":{"reference":"Organization/own"}}`), "account"},
		{"fhirpath name", "PATCH", "/fhir/Observation/o1", writer, fj, fhirPath(`{"name":"type","valueCode":"add"},{"name":"path","valueString":"Observation.meta"},{"name":"name","valueString":"accounts"},{"name":"value","valueReference":{"reference":"Organization/own"}}`), "accounts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send(c.method, c.path, c.tok, c.ctype, c.body)
			up.mu.Lock()
			n := len(up.patches) + len(up.ifMatch)
			up.mu.Unlock()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "meta."+c.member+" is not") || n != 0 {
				t.Fatalf("want 400 naming meta.%s, no write: %d %s (%d writes)", c.member, resp.StatusCode, got, n)
			}
		})
	}
	for name, c := range map[string]struct{ method, path, body string }{
		"update keeps account": {"PUT", "/fhir/Observation/o1", strings.Replace(obs(acct), "pulse", "pulse rate", 1)},
		"update, FHIR's meta":  {"PUT", "/fhir/Observation/o1", obs(acct + `,"lastUpdated":"2026-01-01T00:00:00Z","source":"urn:x","profile":["http://x"],"tag":[{"code":"t"}]`)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send(c.method, c.path, tokAll, fj, c.body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, got)
			}
		})
	}
}

// TestWholeViewUpdateKeepsProgramQA27E: a caller the consent admits to a
// Part 2 program's record, which it sees whole, may not make it an
// ordinary record by an update that drops its meta.source (the labels the
// read adds from the program are not stored): the update is refused (403),
// stored as it was, and an organisation the consent denies Part 2 still
// reads nothing. A FHIRPath Patch of it, which cannot be checked so, needs
// the label-writer role (422). An edit that keeps the source goes.
func TestWholeViewUpdateKeepsProgramQA27E(t *testing.T) {
	t.Parallel()
	const src = "http://riverside.example/fhir"
	const tokC = "Organization/org-c|TREAT|user/*.read"
	cond := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1","source":"` + src + `"},` +
		`"subject":{"reference":"Patient/p1"},"clinicalStatus":{"text":"active"},"code":{"text":"follow-up"}}`
	consentJSON := `{"resourceType":"Consent","id":"c-q","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"deny","provision":[
	  {"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]},
	  {"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-c"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	   "provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}]}]}}`
	setup := func() (*storeUpstream, *harness) {
		up := newStoreUpstream(map[string]string{"Condition/c1": cond, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
		h := newHarness(t, up.handler, func(o *Options, d *Deps) {
			l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100,
				Programs: []labels.Program{{Name: "clinic", Sources: []string{src}}}})
			if err != nil {
				t.Fatal(err)
			}
			d.Labeller = l
			d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {{ID: "c-q", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(), JSON: []byte(consentJSON)}}}}
		})
		return up, h
	}
	t.Run("update dropping the source", func(t *testing.T) {
		t.Parallel()
		up, h := setup()
		if resp, body := h.get("/fhir/Condition/c1", tokC); resp.StatusCode != 404 {
			t.Fatalf("org-c before: %d %s", resp.StatusCode, body)
		}
		resp, view := h.get("/fhir/Condition/c1", tokAll)
		if resp.StatusCode != 200 || strings.Contains(view, "REDACTED") || !strings.Contains(view, "42CFRPart2") {
			t.Fatalf("org-a's view: %d %s", resp.StatusCode, view)
		}
		edited := strings.Replace(view, `"source":"`+src+`",`, ``, 1)
		if edited == view {
			t.Fatalf("no source to drop in %s", view)
		}
		if resp, body := h.send(http.MethodPut, "/fhir/Condition/c1", tokAll, "application/fhir+json", edited); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
			t.Errorf("an update dropping the program's source: %d %s, want 403", resp.StatusCode, body)
		}
		if got := up.get("Condition/c1"); !strings.Contains(got, `"source":"`+src+`"`) {
			t.Errorf("stored: %s", got)
		}
		if resp, body := h.get("/fhir/Condition/c1", tokC); resp.StatusCode != 404 {
			t.Errorf("org-c after: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("fhirpath patch", func(t *testing.T) {
		t.Parallel()
		up, h := setup()
		p := `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Condition.clinicalStatus.text"},{"name":"value","valueString":"resolved"}]}]}`
		if resp, body := h.send(http.MethodPatch, "/fhir/Condition/c1", tokAll, "application/fhir+json", p); resp.StatusCode != http.StatusUnprocessableEntity || len(up.patches) != 0 {
			t.Errorf("a FHIRPath Patch of a Part 2 record: %d %s, want 422", resp.StatusCode, body)
		}
	})
	t.Run("edit keeping the source", func(t *testing.T) {
		t.Parallel()
		up, h := setup()
		_, view := h.get("/fhir/Condition/c1", tokAll)
		edited := strings.Replace(view, `"text":"active"`, `"text":"resolved"`, 1)
		if resp, body := h.send(http.MethodPut, "/fhir/Condition/c1", tokAll, "application/fhir+json", edited); resp.StatusCode != 200 {
			t.Errorf("an edit keeping the source: %d %s", resp.StatusCode, body)
		}
		if got := up.get("Condition/c1"); !strings.Contains(got, "resolved") || !strings.Contains(got, src) {
			t.Errorf("stored: %s", got)
		}
		if resp, body := h.send(http.MethodPatch, "/fhir/Condition/c1", tokAll, "application/json-patch+json", `[{"op":"replace","path":"/clinicalStatus/text","value":"active"}]`); resp.StatusCode != 200 {
			t.Errorf("a JSON Patch keeping the source: %d %s", resp.StatusCode, body)
		}
	})
}

package proxy

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

func TestParseSMARTScope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		ok    bool
		typ   string
		perms uint8
		pat   bool
	}{
		{"patient/Observation.read", true, "Observation", permR | permS, true},
		{"user/*.read", true, "*", permR | permS, false},
		{"system/*.write", true, "*", permC | permU | permD, false},
		{"user/*.*", true, "*", permAll, false},
		{"patient/Observation.rs", true, "Observation", permR | permS, true},
		{"user/Condition.cruds", true, "Condition", permAll, false},
		{"user/Condition.cud", true, "Condition", permC | permU | permD, false},
		{"user/Condition.s", true, "Condition", permS, false},
		{"user/Condition.sr", false, "", 0, false},    // out of order
		{"user/Condition.rr", false, "", 0, false},    // repeated
		{"user/Condition.x", false, "", 0, false},     // unknown letter
		{"user/Condition.", false, "", 0, false},      // empty
		{"user/condition.rs", false, "", 0, false},    // not a type
		{"launch/patient", false, "", 0, false},       // not a resource scope
		{"openid", false, "", 0, false},               //
		{"admin/*.read", false, "", 0, false},         // unknown context
		{"ds4p/auditor", false, "", 0, false},         // admin role
		{"*.*", false, "", 0, false},                  // no context
		{"user/Observation.rs?", false, "", 0, false}, // empty restriction
	}
	for _, c := range cases {
		sc, ok := parseSMARTScope(c.in)
		if ok != c.ok || (ok && (sc.typ != c.typ || sc.perms != c.perms || sc.patient != c.pat)) {
			t.Errorf("parseSMARTScope(%q) = %+v, %v", c.in, sc, ok)
		}
	}
	sc, ok := parseSMARTScope("patient/Observation.rs?category=laboratory")
	if !ok || sc.restrict.Get("category") != "laboratory" || sc.perms != permR|permS {
		t.Fatalf("restricted scope: %+v %v", sc, ok)
	}
}

func TestScopeNeedsPerInteraction(t *testing.T) {
	t.Parallel()
	type tc struct {
		method, path, query string
		scopes              string
		patient             string
		want                bool
	}
	cases := []tc{
		{"GET", "metadata", "", "", "", true},
		{"GET", "Observation/1", "", "patient/Observation.read", "p1", true},
		{"GET", "Observation/1", "", "patient/Observation.read", "", false}, // patient scope without context
		{"GET", "Observation/1", "", "user/Observation.s", "", false},
		{"GET", "Observation/1", "", "user/Observation.r", "", true},
		{"GET", "Observation/1/_history/2", "", "user/Observation.r", "", true},
		{"GET", "Observation", "", "user/Observation.r", "", false},
		{"GET", "Observation", "", "user/Observation.s", "", true},
		{"GET", "Observation/_history", "", "user/Observation.s", "", true},
		{"GET", "Condition", "", "patient/Patient.read", "p1", false}, // escalation to another type
		{"GET", "Patient/p1/Condition", "", "user/Condition.s", "", true},
		{"POST", "Observation", "", "user/Observation.rs", "", false},
		{"POST", "Observation", "", "user/Observation.c", "", true},
		{"POST", "Observation", "", "system/*.write", "", true},
		{"PUT", "Observation/1", "", "user/Observation.c", "", false},
		{"PUT", "Observation/1", "", "user/Observation.u", "", true},
		{"PATCH", "Observation/1", "", "user/Observation.u", "", true},
		{"DELETE", "Observation/1", "", "user/Observation.u", "", false},
		{"DELETE", "Observation/1", "", "user/Observation.d", "", true},
		{"DELETE", "Observation", "code=x", "user/Observation.d", "", false}, // conditional needs s
		{"DELETE", "Observation", "code=x", "user/Observation.ds", "", true},
		{"GET", "Patient/p1/$everything", "", "patient/Patient.rs patient/Observation.rs", "p1", false},
		{"GET", "Patient/p1/$everything", "", "patient/*.rs", "p1", true},
		{"GET", "Patient/p1/$everything", "", "user/*.read", "", true},
		{"GET", "", "", "user/Observation.s", "", false}, // system search without _type
		{"GET", "", "_type=Observation", "user/Observation.s", "", true},
		{"GET", "", "_type=Observation,Condition", "user/Observation.s", "", false},
		{"GET", "", "", "user/*.s", "", true},
		{"GET", "Observation", "_include=Observation:subject:Patient", "user/Observation.s", "", false},
		{"GET", "Observation", "_include=Observation:subject:Patient", "user/Observation.s user/Patient.r", "", true},
		{"GET", "Observation", "_include=Observation:subject", "user/Observation.s user/Patient.r", "", false},
		{"GET", "Patient", "_revinclude=Observation:subject", "user/Patient.s", "", false},
		{"GET", "Patient", "_revinclude:iterate=Observation:subject", "user/Patient.s user/Observation.r", "", true},
		{"GET", "Patient", "_has:Observation:patient:code=1234", "user/Patient.s", "", false},
		{"GET", "Patient", "_has:Observation:patient:code=1234", "user/Patient.s user/Observation.s", "", true},
		// v2 query restrictions: searches only, and only within the restriction.
		{"GET", "Observation", "category=laboratory", "patient/Observation.rs?category=laboratory", "p1", true},
		{"GET", "Observation", "category=laboratory&code=x", "patient/Observation.rs?category=laboratory", "p1", true},
		{"GET", "Observation", "", "patient/Observation.rs?category=laboratory", "p1", false},
		{"GET", "Observation", "category=vital-signs", "patient/Observation.rs?category=laboratory", "p1", false},
		{"GET", "Observation", "category=laboratory,vital-signs", "patient/Observation.rs?category=laboratory", "p1", false},
		{"GET", "Observation", "category:not=laboratory", "patient/Observation.rs?category=laboratory", "p1", false},
		{"GET", "Observation", "category=vital-signs&category=laboratory", "patient/Observation.rs?category=laboratory", "p1", true},
		{"GET", "Observation/1", "", "patient/Observation.rs?category=laboratory", "p1", false}, // restricted scopes never grant reads
		{"GET", "Observation/_history", "category=laboratory", "patient/Observation.rs?category=laboratory", "p1", false},
	}
	for _, c := range cases {
		req, err := parseFHIRPath(c.method, c.path)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		q, _ := url.ParseQuery(c.query)
		g := grantsOf(authn.Caller{Scopes: strings.Fields(c.scopes), Patient: c.patient})
		got := true
		for _, n := range needs(req, c.method, q) {
			got = got && g.allows(n.typ, n.perm, n.q)
		}
		if got != c.want {
			t.Errorf("%s %s?%s with %q (patient %q): allowed=%v, want %v", c.method, c.path, c.query, c.scopes, c.patient, got, c.want)
		}
	}
}

// scopeAuth accepts tokens "patient|scopes" (patient may be empty).
type scopeAuth struct{}

func (scopeAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	pat, scopes, ok := strings.Cut(raw, "|")
	if !ok {
		return authn.Caller{}, authn.ErrUnauthenticated
	}
	return authn.Caller{Subject: "s", Org: "Organization/org-b", Purposes: []string{"TREAT"}, Patient: pat, Scopes: strings.Fields(scopes)}, nil
}

func withScopeAuth(_ *Options, d *Deps) { d.Auth = scopeAuth{} }

// forwarded reports whether the upstream saw a request.
func (h *harness) forwarded() bool {
	select {
	case <-h.seen:
		return true
	default:
		return false
	}
}

func TestScopeRefusalForwardsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs), withScopeAuth)
	for _, c := range []struct{ path, tok string }{
		{"/fhir/Observation/bp1", "|"},                             // no scopes
		{"/fhir/Observation/bp1", "p1|patient/Patient.read"},       // another type
		{"/fhir/Observation/bp1", "|patient/Observation.read"},     // patient scope, no patient context
		{"/fhir/Observation?code=x", "|user/Observation.r"},        // read but not search
		{"/fhir/Observation/bp1", "|openid fhirUser ds4p/auditor"}, // no SMART scope at all
		{"/fhir/Observation?_include=Observation:subject:Patient", "|user/Observation.s"},
	} {
		resp, body := h.get(c.path, c.tok)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"code":"forbidden"`) || !strings.Contains(body, "OperationOutcome") {
			t.Errorf("%s with %q: %d %s", c.path, c.tok, resp.StatusCode, body)
		}
		if strings.Contains(body, "bp1") || strings.Contains(body, "60.4") || strings.Contains(body, "Patient/p1") {
			t.Errorf("%s with %q: the refusal carries resource data: %s", c.path, c.tok, body)
		}
		if h.forwarded() {
			t.Errorf("%s with %q: the request reached the upstream", c.path, c.tok)
		}
	}
	if resp, body := h.get("/fhir/Observation/bp1", "|user/Observation.rs"); resp.StatusCode != 200 || !strings.Contains(body, "bp1") {
		t.Fatalf("permitted read: %d %s", resp.StatusCode, body)
	}
}

func TestMetadataNeedsNoScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1","format":["json"],"date":"2024-01-01"}`), withScopeAuth)
	if resp, body := h.get("/fhir/metadata", "|"); resp.StatusCode != 200 {
		t.Fatalf("metadata without scopes: %d %s", resp.StatusCode, body)
	}
}

func TestPostSearchBodyChecked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`), withScopeAuth)
	post := func(tok, body string) int {
		req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/fhir/Observation/_search", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := post("p1|patient/Observation.rs?category=laboratory", "category=vital-signs"); s != 403 {
		t.Errorf("restricted POST search outside the restriction: %d", s)
	}
	if s := post("|user/Observation.s", "_include=Observation:subject:Patient"); s != 403 {
		t.Errorf("_include of an unscoped type in a POST body: %d", s)
	}
	if h.forwarded() {
		t.Fatal("a refused POST search reached the upstream")
	}
	if s := post("p1|patient/Observation.rs?category=laboratory", "category=laboratory"); s != 200 {
		t.Errorf("restricted POST search inside the restriction: %d", s)
	}
	select {
	case r := <-h.seen:
		if r.Method != http.MethodPost {
			t.Fatalf("upstream saw %s", r.Method)
		}
	default:
		t.Fatal("the permitted POST search was not forwarded")
	}
}

// TestPatientCompartment: a patient-context token reads only its patient.
func TestPatientCompartment(t *testing.T) {
	t.Parallel()
	const otherObs = `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"text":"secret-weight"},"valueQuantity":{"value":99,"unit":"kg"}}`
	const p2 = `{"resourceType":"Patient","id":"p2","name":[{"family":"Otherfamily"}]}`
	const bundle = `{"resourceType":"Bundle","type":"searchset","entry":[` +
		`{"fullUrl":"http://x/Observation/bp1","resource":` + bpObs + `,"search":{"mode":"match"}},` +
		`{"fullUrl":"http://x/Observation/o2","resource":` + otherObs + `,"search":{"mode":"match"}}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		switch r.URL.Path {
		case "/fhir/R4/Observation/o2":
			_, _ = w.Write([]byte(otherObs))
		case "/fhir/R4/Observation/bp1":
			_, _ = w.Write([]byte(bpObs))
		case "/fhir/R4/Patient/p2":
			_, _ = w.Write([]byte(p2))
		case "/fhir/R4/Observation":
			_, _ = w.Write([]byte(bundle))
		default:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
		}
	}, withScopeAuth)
	const tok = "p1|patient/*.rs"

	// Request side: another Patient answers as a missing one.
	missResp, missBody := h.get("/fhir/Patient/nosuch", "|user/*.rs")
	h.forwarded()
	for _, path := range []string{"/fhir/Patient/p2", "/fhir/Patient/p2/_history/1", "/fhir/Patient/p2/$everything", "/fhir/Patient/p2/Observation"} {
		resp, body := h.get(path, tok)
		if resp.StatusCode != 404 || strings.Contains(body, "Otherfamily") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if h.forwarded() {
			t.Fatalf("%s: forwarded", path)
		}
		if path == "/fhir/Patient/p2" {
			if want := strings.Replace(missBody, "nosuch", "p2", 1); body != want {
				t.Fatalf("other patient's body %s differs from a missing one's %s", body, want)
			}
			for _, k := range []string{"Content-Type", "Cache-Control", "Vary", "Content-Encoding", "ETag", "Last-Modified", "Location"} {
				if resp.Header.Get(k) != missResp.Header.Get(k) {
					t.Fatalf("header %s: %q vs missing %q", k, resp.Header.Get(k), missResp.Header.Get(k))
				}
			}
		}
	}
	// Response side: another patient's Observation read by id is a 404.
	resp, body := h.get("/fhir/Observation/o2", tok)
	if resp.StatusCode != 404 || strings.Contains(body, "secret-weight") || strings.Contains(body, "Patient/p2") {
		t.Fatalf("other patient's observation: %d %s", resp.StatusCode, body)
	}
	// ... and is left out of a search; the own one stays.
	resp, body = h.get("/fhir/Observation?code=x", tok)
	if resp.StatusCode != 200 || strings.Contains(body, "secret-weight") || strings.Contains(body, `"o2"`) || !strings.Contains(body, `"bp1"`) {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	// Own data is readable.
	if resp, body := h.get("/fhir/Observation/bp1", tok); resp.StatusCode != 200 || !strings.Contains(body, "bp1") {
		t.Fatalf("own observation: %d %s", resp.StatusCode, body)
	}
	// A user/ token without a patient claim is not compartment-bound.
	if resp, body := h.get("/fhir/Observation/o2", "|user/*.rs"); resp.StatusCode != 200 || !strings.Contains(body, "o2") {
		t.Fatalf("user token: %d %s", resp.StatusCode, body)
	}
	// Writes by a patient-context token are refused.
	req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/fhir/Observation", strings.NewReader(bpObs))
	req.Header.Set("Authorization", "Bearer p1|patient/*.cruds")
	req.Header.Set("Content-Type", "application/fhir+json")
	wr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wr.Body.Close()
	if wr.StatusCode != 403 {
		t.Fatalf("patient-context write: %d", wr.StatusCode)
	}
}

func TestOutsideCompartment(t *testing.T) {
	t.Parallel()
	bound := authn.Caller{Patient: "p1"}
	for _, c := range []struct {
		caller  authn.Caller
		patient string
		want    bool
	}{
		{bound, "Patient/p1", false},
		{bound, "Patient/p2", true},
		{bound, "Patient/p10", true},
		{bound, "", false},
		{authn.Caller{}, "Patient/p2", false},
	} {
		if got := outsideCompartment(c.caller, c.patient); got != c.want {
			t.Errorf("outsideCompartment(%+v, %q) = %v", c.caller, c.patient, got)
		}
	}
}

// TestAdminRoles: each admin role reaches only its own endpoints, and FHIR
// scopes reach none.
func TestAdminRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	endpoints := map[string]string{
		"/admin/Consent?patient=Patient/p1": authn.ConsentManagerScope,
		"/admin/Consent/c1":                 authn.ConsentManagerScope,
		"/admin/policy":                     authn.PolicyAuthorScope,
		"/admin/audit?patient=Patient/p1":   authn.AuditorScope,
	}
	roles := []string{authn.ConsentManagerScope, authn.PolicyAuthorScope, authn.AuditorScope, "user/*.*", "ds4p/admin"}
	for path, owner := range endpoints {
		for _, role := range roles {
			resp, body := h.get(path, "Organization/ops||"+role)
			if role == owner {
				if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
					t.Errorf("%s with its role %s: %d %s", path, role, resp.StatusCode, body)
				}
			} else if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s with %s: %d, want 403", path, role, resp.StatusCode)
			}
		}
	}
	// POST /admin/decide belongs to the policy author.
	for _, role := range roles {
		req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/admin/decide", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer Organization/ops||"+role)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if (role == authn.PolicyAuthorScope) == (resp.StatusCode == http.StatusForbidden) {
			t.Errorf("/admin/decide with %s: %d", role, resp.StatusCode)
		}
	}
}

func TestBatchEntriesNeedTheirScopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[]}`), withScopeAuth)
	batch := func(entries ...string) string {
		var es []string
		for _, e := range entries {
			m, u, _ := strings.Cut(e, " ")
			es = append(es, `{"request":{"method":"`+m+`","url":"`+u+`"}}`)
		}
		return `{"resourceType":"Bundle","type":"batch","entry":[` + strings.Join(es, ",") + `]}`
	}
	post := func(tok, body string) int {
		req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/fhir", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/fhir+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		tok, body string
		want      int
	}{
		{"|user/Observation.rs", batch("GET Observation/bp1", "GET Condition?code=x"), 403},
		{"|user/Observation.rs", batch("GET Observation/bp1", "DELETE Observation/bp1"), 403},
		{"|user/Observation.rs", batch("GET Observation?_include=Observation:subject:Patient"), 403},
		{"p1|patient/*.cruds", batch("GET Observation/bp1", "PUT Observation/bp1"), 403},
		{"|user/*.rs", batch("GET Observation/bp1", "GET ../../admin"), 400},
		{"|user/*.rs", `{"resourceType":"Bundle","entry":[{"resource":{}}]}`, 400},
		{"|user/*.rs", `[1,2]`, 400},
	} {
		if got := post(c.tok, c.body); got != c.want {
			t.Errorf("%q with %s: %d, want %d", c.tok, c.body, got, c.want)
		}
		if h.forwarded() {
			t.Errorf("%q with %s: forwarded", c.tok, c.body)
		}
	}
	if got := post("|user/Observation.rs user/Condition.s", batch("GET Observation/bp1", "GET Condition?code=x")); got != 200 {
		t.Fatalf("permitted batch: %d", got)
	}
	select {
	case r := <-h.seen:
		if r.Method != http.MethodPost {
			t.Fatalf("upstream saw %s", r.Method)
		}
	default:
		t.Fatal("the permitted batch was not forwarded")
	}
}

// BenchmarkScopeCheck: parsing a caller's scopes and checking one search
// with an _include against them, as enforceScopes does per request.
func BenchmarkScopeCheck(b *testing.B) {
	caller := authn.Caller{Patient: "p1", Scopes: []string{"openid", "fhirUser", "launch/patient", "patient/Observation.rs?category=laboratory", "patient/Patient.r", "patient/Condition.rs", "patient/Encounter.rs"}}
	req, _ := parseFHIRPath(http.MethodGet, "Observation")
	q, _ := url.ParseQuery("subject=Patient/p1&category=laboratory&_include=Observation:subject:Patient&_count=50")
	b.ReportAllocs()
	for b.Loop() {
		g := grantsOf(caller)
		for _, n := range needs(req, http.MethodGet, q) {
			if !g.allows(n.typ, n.perm, n.q) {
				b.Fatal("refused")
			}
		}
	}
}

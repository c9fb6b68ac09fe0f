package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// apiConsent is a Part 2 consent of Patient/p1: deny all, permit ORG for
// TREAT. Tests replace ORG and add an id where they need one.
const apiConsent = `{"resourceType":"Consent","status":"active",
  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
  "patient":{"reference":"Patient/p1"},
  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
  "provision":{"type":"deny","provision":[{"type":"permit",
    "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"ORG"}}],
    "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}}`

// consentAPI is a proxy with a real consent store in front of an upstream
// that knows Patient/p1 and its SUD Condition/sud1.
type consentAPI struct {
	*harness
	store *consent.Store
}

// newConsentAPI starts the proxy; patientStatus is what the upstream
// answers to reads of Patient/p1 (any other patient is 404).
func newConsentAPI(t *testing.T, patientStatus int, opts ...harnessOpt) *consentAPI {
	t.Helper()
	store := openConsentStore(t)
	upstream := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/R4/Patient/p1":
			fhirJSONHandler(patientStatus, `{"resourceType":"Patient","id":"p1"}`)(w, r)
		case "/fhir/R4/Condition/sud1":
			fhirJSONHandler(http.StatusOK, sudCondition)(w, r)
		default:
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}
	h := newHarness(t, upstream, append([]harnessOpt{func(_ *Options, d *Deps) { d.Consents = store }}, opts...)...)
	return &consentAPI{harness: h, store: store}
}

// call makes one admin API request and returns status, headers and body.
func (a *consentAPI) call(method, path, body string, hdr ...string) (int, http.Header, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.proxy.URL+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tokAdmin)
	req.Header.Set("Content-Type", "application/fhir+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// resourceOf decodes the parts of a Consent answer the tests check.
func resourceOf(t *testing.T, body string) (id, version, status string) {
	t.Helper()
	var r struct {
		ResourceType, ID, Status string
		Meta                     struct{ VersionID string }
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.ResourceType != "Consent" {
		t.Fatalf("not a Consent (%v): %s", err, body)
	}
	return r.ID, r.Meta.VersionID, r.Status
}

// TestConsentAPILifecycle walks one consent through create, read, update,
// vread, history, search and revoke.
func TestConsentAPILifecycle(t *testing.T) {
	t.Parallel()
	a := newConsentAPI(t, http.StatusOK)
	body := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)

	code, hdr, resp := a.call(http.MethodPost, "/admin/Consent", strings.Replace(body, `"resourceType":"Consent",`, `"resourceType":"Consent","id":"ignored",`, 1))
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, resp)
	}
	id, v, _ := resourceOf(t, resp)
	if id == "ignored" || v != "1" || hdr.Get("ETag") != `W/"1"` || !strings.HasSuffix(hdr.Get("Location"), "/admin/Consent/"+id+"/_history/1") {
		t.Errorf("create: id %q v%s ETag %q Location %q", id, v, hdr.Get("ETag"), hdr.Get("Location"))
	}

	withID := strings.Replace(body, `"resourceType":"Consent",`, `"resourceType":"Consent","id":"`+id+`",`, 1)
	steps := []struct {
		name, method, path, body string
		hdr                      []string
		wantCode                 int
		wantVersion, wantStatus  string
	}{
		{"read", http.MethodGet, "/admin/Consent/" + id, "", nil, 200, "1", "active"},
		{"update with If-Match", http.MethodPut, "/admin/Consent/" + id, withID, []string{"If-Match", `W/"1"`}, 200, "2", "active"},
		{"stale If-Match", http.MethodPut, "/admin/Consent/" + id, withID, []string{"If-Match", `W/"1"`}, 412, "", ""},
		{"vread 1", http.MethodGet, "/admin/Consent/" + id + "/_history/1", "", nil, 200, "1", "active"},
		{"vread 2", http.MethodGet, "/admin/Consent/" + id + "/_history/2", "", nil, 200, "2", "active"},
		{"vread 3 missing", http.MethodGet, "/admin/Consent/" + id + "/_history/3", "", nil, 404, "", ""},
		{"vread not a number", http.MethodGet, "/admin/Consent/" + id + "/_history/x", "", nil, 404, "", ""},
		{"revoke", http.MethodPost, "/admin/Consent/" + id + "/$revoke", "", nil, 200, "3", "inactive"},
		{"revoke again changes nothing", http.MethodPost, "/admin/Consent/" + id + "/$revoke", "", nil, 200, "3", "inactive"},
		{"revoke as entered-in-error", http.MethodPost, "/admin/Consent/" + id + "/$revoke",
			`{"resourceType":"Parameters","parameter":[{"name":"status","valueCode":"entered-in-error"}]}`, nil, 200, "4", "entered-in-error"},
		{"revoke to a bad status", http.MethodPost, "/admin/Consent/" + id + "/$revoke?status=active", "", nil, 400, "", ""},
		{"revoke with a bad body", http.MethodPost, "/admin/Consent/" + id + "/$revoke", `{"resourceType":"Patient"}`, nil, 400, "", ""},
		{"revoke unknown", http.MethodPost, "/admin/Consent/nope/$revoke", "", nil, 404, "", ""},
		{"re-grant by update", http.MethodPut, "/admin/Consent/" + id, withID, nil, 200, "5", "active"},
		{"update as create", http.MethodPut, "/admin/Consent/chosen", strings.Replace(withID, id, "chosen", 1), nil, 201, "1", "active"},
		{"read unknown", http.MethodGet, "/admin/Consent/nope", "", nil, 404, "", ""},
	}
	for _, st := range steps {
		code, _, resp := a.call(st.method, st.path, st.body, st.hdr...)
		if code != st.wantCode {
			t.Fatalf("%s: %d %s, want %d", st.name, code, resp, st.wantCode)
		}
		if st.wantVersion == "" {
			assertOutcome(t, st.name, resp)
			continue
		}
		if _, v, status := resourceOf(t, resp); v != st.wantVersion || status != st.wantStatus {
			t.Errorf("%s: v%s %s, want v%s %s", st.name, v, status, st.wantVersion, st.wantStatus)
		}
	}

	code, _, resp = a.call(http.MethodGet, "/admin/Consent/"+id+"/_history", "")
	if code != 200 {
		t.Fatalf("history: %d %s", code, resp)
	}
	var hist struct {
		Type  string
		Total int
		Entry []struct {
			FullURL  string
			Resource struct{ Meta struct{ VersionID string } }
			Request  struct{ Method string }
			Response struct{ Etag string }
		}
	}
	if err := json.Unmarshal([]byte(resp), &hist); err != nil || hist.Type != "history" || hist.Total != 5 || len(hist.Entry) != 5 {
		t.Fatalf("history bundle (%v): %s", err, resp)
	}
	if e := hist.Entry[0]; e.Resource.Meta.VersionID != "5" || e.Response.Etag != `W/"5"` || e.Request.Method != "PUT" {
		t.Errorf("history newest entry = %+v", e)
	}
	if e := hist.Entry[4]; e.Resource.Meta.VersionID != "1" || e.Request.Method != "POST" || !strings.HasSuffix(e.FullURL, "/admin/Consent/"+id) {
		t.Errorf("history oldest entry = %+v", e)
	}
}

// assertOutcome checks that body is an OperationOutcome with an error issue.
func assertOutcome(t *testing.T, name, body string) int {
	t.Helper()
	var oo struct {
		ResourceType string
		Issue        []struct{ Severity, Code, Diagnostics string }
	}
	if err := json.Unmarshal([]byte(body), &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("%s: not an OperationOutcome (%v): %s", name, err, body)
	}
	for _, is := range oo.Issue {
		if is.Severity != "error" || is.Code == "" || is.Diagnostics == "" {
			t.Errorf("%s: incomplete issue %+v", name, is)
		}
	}
	return len(oo.Issue)
}

// TestConsentAPISearch checks the search parameters end to end.
func TestConsentAPISearch(t *testing.T) {
	t.Parallel()
	a := newConsentAPI(t, http.StatusOK)
	for _, org := range []string{"Organization/org-a", "Organization/org-b"} {
		if code, _, resp := a.call(http.MethodPost, "/admin/Consent", strings.Replace(apiConsent, "ORG", org, 1)); code != 201 {
			t.Fatalf("create: %d %s", code, resp)
		}
	}
	recs, _ := a.store.Search(context.Background(), consent.Query{Actor: []string{"Organization/org-b"}})
	if _, _, err := a.store.Revoke(context.Background(), recs[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query     string
		wantCode  int
		wantTotal int
	}{
		{"patient=Patient/p1", 200, 2},
		{"patient=p1&status=active", 200, 1},
		{"actor=Organization/org-b", 200, 1},
		{"status=inactive&actor=Organization/org-a", 200, 0},
		{"category=http://loinc.org|59284-0", 200, 2},
		{"period=ge2026-01-01", 200, 2},
		{"", 200, 2},
		{"statuss=active", 400, 0},
		{"patient=Group/x", 400, 0},
	}
	for _, tt := range tests {
		code, _, resp := a.call(http.MethodGet, "/admin/Consent?"+tt.query, "")
		if code != tt.wantCode {
			t.Errorf("search %q: %d %s", tt.query, code, resp)
			continue
		}
		if code != 200 {
			assertOutcome(t, tt.query, resp)
			continue
		}
		var b struct {
			Type  string
			Total int
			Entry []json.RawMessage
		}
		if err := json.Unmarshal([]byte(resp), &b); err != nil || b.Type != "searchset" || b.Total != tt.wantTotal || len(b.Entry) != tt.wantTotal {
			t.Errorf("search %q: total %d, %d entries (%v), want %d", tt.query, b.Total, len(b.Entry), err, tt.wantTotal)
		}
	}
}

// TestConsentAPIRejects sends bad consents and checks for an OperationOutcome
// with the expected status and issues, and that the store is unchanged.
func TestConsentAPIRejects(t *testing.T) {
	t.Parallel()
	good := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
	withID := strings.Replace(good, `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c1",`, 1)
	tests := []struct {
		name          string
		patientStatus int // upstream answer to Patient/p1
		method, path  string
		body          string
		hdr           []string
		wantCode      int
		wantIssues    int // at least
		wantExpr      string
	}{
		{name: "malformed JSON", body: `{"resourceType":"Consent",`, wantCode: 400, wantIssues: 1, wantExpr: "Consent"},
		{name: "empty body", body: ``, wantCode: 400, wantIssues: 1},
		{name: "wrong resourceType", body: strings.Replace(good, `"resourceType":"Consent"`, `"resourceType":"Patient"`, 1), wantCode: 400, wantIssues: 1, wantExpr: "Consent.resourceType"},
		{name: "unknown provision field", body: strings.Replace(good, `"actor":[`, `"actors":[`, 1), wantCode: 400, wantIssues: 1, wantExpr: "Consent.provision.provision[0].actors"},
		{name: "two problems, two issues", body: strings.Replace(strings.Replace(good, `"actor":[`, `"actors":[`, 1), `"status":"active"`, `"status":"on"`, 1), wantCode: 400, wantIssues: 2},
		{name: "10 MB consent", body: strings.Replace(good, `"status":"active",`, `"status":"active","language":"`+strings.Repeat("x", 10<<20)+`",`, 1), wantCode: 413, wantIssues: 1},
		{name: "XML", body: `<Consent xmlns="http://hl7.org/fhir"/>`, hdr: []string{"Content-Type", "application/fhir+xml"}, wantCode: 415, wantIssues: 1},
		{name: "patient unknown upstream", patientStatus: http.StatusNotFound, body: good, wantCode: 422, wantIssues: 1, wantExpr: "Consent.patient.reference"},
		{name: "patient gone upstream", patientStatus: http.StatusGone, body: good, wantCode: 422, wantIssues: 1},
		{name: "upstream cannot tell", patientStatus: http.StatusInternalServerError, body: good, wantCode: 502, wantIssues: 1},
		{name: "update with another id", method: http.MethodPut, path: "/admin/Consent/c2", body: withID, wantCode: 400, wantIssues: 1, wantExpr: "Consent.id"},
		{name: "update without id", method: http.MethodPut, path: "/admin/Consent/c1", body: good, wantCode: 400, wantIssues: 1, wantExpr: "Consent.id"},
		{name: "update with a bad If-Match", method: http.MethodPut, path: "/admin/Consent/c1", body: withID, hdr: []string{"If-Match", "yesterday"}, wantCode: 400, wantIssues: 1},
		{name: "update with a stale If-Match", method: http.MethodPut, path: "/admin/Consent/c1", body: withID, hdr: []string{"If-Match", `W/"9"`}, wantCode: 412, wantIssues: 1},
		{name: "invalid update", method: http.MethodPut, path: "/admin/Consent/c1", body: strings.Replace(withID, `"Patient/p1"`, `"p1"`, 1), wantCode: 400, wantIssues: 1, wantExpr: "Consent.patient.reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.patientStatus == 0 {
				tt.patientStatus = http.StatusOK
			}
			if tt.method == "" {
				tt.method, tt.path = http.MethodPost, "/admin/Consent"
			}
			a := newConsentAPI(t, tt.patientStatus)
			ctx := context.Background()
			if _, err := a.store.Put(ctx, []byte(withID)); err != nil {
				t.Fatal(err)
			}
			code, hdr, resp := a.call(tt.method, tt.path, tt.body, tt.hdr...)
			if code != tt.wantCode {
				t.Fatalf("status %d, want %d: %.300s", code, tt.wantCode, resp)
			}
			if n := assertOutcome(t, tt.name, resp); n < tt.wantIssues {
				t.Errorf("%d issues, want at least %d: %s", n, tt.wantIssues, resp)
			}
			if tt.wantExpr != "" && !strings.Contains(resp, `"expression":["`+tt.wantExpr+`"]`) {
				t.Errorf("no issue at %s: %s", tt.wantExpr, resp)
			}
			if hdr.Get("Location") != "" || hdr.Get("ETag") != "" {
				t.Errorf("refusal carries Location %q / ETag %q", hdr.Get("Location"), hdr.Get("ETag"))
			}
			assertStoreHolds(t, a.store, 1)
		})
	}
}

// assertStoreHolds checks that the store holds exactly c1 at v1 for
// Patient/p1, and nothing else.
func assertStoreHolds(t *testing.T, s *consent.Store, patientVersion uint64) {
	t.Helper()
	ctx := context.Background()
	all, err := s.Search(ctx, consent.Query{})
	if err != nil || len(all) != 1 || all[0].ID != "c1" || all[0].Version != 1 {
		t.Errorf("store holds %d consents (%v) after a refusal, want only c1 v1", len(all), err)
	}
	if pv, _ := s.PatientVersion(ctx, "Patient/p1"); pv != patientVersion {
		t.Errorf("PatientVersion = %d after a refusal, want %d", pv, patientVersion)
	}
}

// TestConsentChangesNextRequest checks that storing, revoking and
// re-granting a consent changes what the same caller sees on the very next
// request.
func TestConsentChangesNextRequest(t *testing.T) {
	t.Parallel()
	a := newConsentAPI(t, http.StatusOK)
	const caller = "Organization/org-c|TREAT|user/*.read"
	body := strings.Replace(apiConsent, "ORG", "Organization/org-c", 1)
	body = strings.Replace(body, `"resourceType":"Consent",`, `"resourceType":"Consent","id":"grant-c",`, 1)
	steps := []struct {
		name     string
		change   func()
		wantCode int
	}{
		{"before any consent", func() {}, 404},
		{"granted", func() { a.mustCall(http.MethodPut, "/admin/Consent/grant-c", body, 201) }, 200},
		{"revoked", func() { a.mustCall(http.MethodPost, "/admin/Consent/grant-c/$revoke", "", 200) }, 404},
		{"re-granted", func() { a.mustCall(http.MethodPut, "/admin/Consent/grant-c", body, 200) }, 200},
	}
	for _, st := range steps {
		st.change()
		for range 2 { // the second read is served from the cache
			resp, got := a.get("/fhir/Condition/sud1", caller)
			if resp.StatusCode != st.wantCode {
				t.Fatalf("%s: read %d, want %d: %s", st.name, resp.StatusCode, st.wantCode, got)
			}
		}
	}
}

// mustCall makes an admin request and fails unless it answers wantCode.
func (a *consentAPI) mustCall(method, path, body string, wantCode int) {
	a.t.Helper()
	if code, _, resp := a.call(method, path, body); code != wantCode {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, code, resp, wantCode)
	}
}

// TestConsentAPIBasicStore checks that a store with only the basic
// operations still serves create, read and search by patient, and answers
// 501 for the rest.
func TestConsentAPIBasicStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`))
	tests := []struct {
		method, path string
		wantCode     int
	}{
		{http.MethodGet, "/admin/Consent?patient=Patient/p1", 200},
		{http.MethodGet, "/admin/Consent?status=active", 501},
		{http.MethodGet, "/admin/Consent/c1/_history", 501},
		{http.MethodGet, "/admin/Consent/c1/_history/1", 501},
		{http.MethodPost, "/admin/Consent/c1/$revoke", 501},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, h.proxy.URL+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+tokAdmin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantCode {
			t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, resp.StatusCode, b, tt.wantCode)
		}
	}
}

// TestConsentCannotMoveToAnotherPatientOverHTTP: a new version of a
// consent that names another patient is a 422 business-rule naming
// Consent.patient, and the stored version is unchanged.
func TestConsentCannotMoveToAnotherPatientOverHTTP(t *testing.T) {
	t.Parallel()
	store := openConsentStore(t)
	upstream := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Patient/p1" || r.URL.Path == "/fhir/R4/Patient/p2" {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"`+strings.TrimPrefix(r.URL.Path, "/fhir/R4/Patient/")+`"}`)(w, r)
			return
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}
	h := newHarness(t, upstream, func(_ *Options, d *Deps) { d.Consents = store })
	body := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"moving",`, 1)
	if resp, out := h.do(http.MethodPut, "/admin/Consent/moving", tokAdmin, "application/fhir+json", body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first version: %d %s", resp.StatusCode, out)
	}
	moved := strings.Replace(body, "Patient/p1", "Patient/p2", 1)
	resp, out := h.do(http.MethodPut, "/admin/Consent/moving", tokAdmin, "application/fhir+json", moved)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(out, `"business-rule"`) || !strings.Contains(out, "Consent.patient") {
		t.Fatalf("moving the consent to another patient: %d %s", resp.StatusCode, out)
	}
	rec, err := store.Get(context.Background(), "moving")
	if err != nil || rec.Version != 1 || rec.Patient != "Patient/p1" {
		t.Fatalf("stored: version %d patient %s, err %v", rec.Version, rec.Patient, err)
	}
}

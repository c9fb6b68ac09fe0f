package proxy

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/proxy/authn"
)

// pagedUpstream answers every search with a searchset whose links point at
// the upstream (self, next), at a foreign host, and carry no url.
func pagedUpstream(h **harness) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		base := (*h).base()
		body := `{"resourceType":"Bundle","type":"searchset","link":[` +
			`{"relation":"self","url":"` + base + `/Condition?subject=Patient/p1"},` +
			`{"relation":"next","url":"` + base + `/Condition?subject=Patient/p1&_offset=2"},` +
			`{"relation":"alternate","url":"https://elsewhere.example/fhir/Condition?subject=Patient/p1"},` +
			`{"relation":"previous"}],` +
			`"entry":[{"fullUrl":"` + base + `/Observation/bp1","resource":` + bpObs + `}]}`
		fhirJSONHandler(200, body)(w, r)
	}
}

func pageLinksOf(t *testing.T, body string) map[string]string {
	t.Helper()
	var b struct {
		Link []struct{ Relation, URL string }
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("not JSON: %v %s", err, body)
	}
	out := map[string]string{}
	for _, l := range b.Link {
		out[l.Relation] = l.URL
	}
	return out
}

func TestPageLinksAreCallerBoundTokens(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, pagedUpstream(&h))
	resp, body := h.get("/fhir/Condition?subject=Patient/p1", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	<-h.seen
	links := pageLinksOf(t, body)
	if len(links) != 2 || links["self"] == "" || links["next"] == "" {
		t.Fatalf("want exactly self and next (foreign and url-less links dropped), got %v", links)
	}
	for rel, u := range links {
		tok, ok := strings.CutPrefix(u, h.proxy.URL+"/fhir/_page/")
		if !ok || strings.Contains(u, "?") {
			t.Fatalf("%s link %q is not a proxy page URL", rel, u)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		// Strings of several bytes: the token is ciphertext, in which a
		// two-byte "p1" turns up by chance about once in 300 runs.
		if err != nil || strings.Contains(string(raw), "Patient/p1") || strings.Contains(string(raw), "subject=") || strings.Contains(string(raw), "Condition") {
			t.Fatalf("%s token does not hide the upstream path: %v", rel, err)
		}
	}
	if strings.Contains(body, h.base()) || strings.Contains(body, "elsewhere.example") {
		t.Fatalf("body names the upstream or a foreign host: %s", body)
	}

	next := strings.TrimPrefix(links["next"], h.proxy.URL)
	resp, body = h.get(next, tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("following next: %d %s", resp.StatusCode, body)
	}
	up := <-h.seen
	if up.URL.Path != "/fhir/R4/Condition" || up.URL.Query().Get("_offset") != "2" || up.URL.Query().Get("subject") != "Patient/p1" {
		t.Fatalf("upstream got %s?%s", up.URL.Path, up.URL.RawQuery)
	}

	resp, body = h.get(next, tokOther)
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "p1") {
		t.Fatalf("another caller replaying the token: %d %s", resp.StatusCode, body)
	}
	tampered := []byte(next)
	i := len(tampered) - 10
	tampered[i] = map[bool]byte{true: 'B', false: 'A'}[tampered[i] == 'A']
	resp, body = h.get(string(tampered), tokConsented)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("tampered token: %d %s", resp.StatusCode, body)
	}
	resp, _ = h.get("/fhir/_page/"+strings.Repeat("A", 40), tokConsented)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged token: %d", resp.StatusCode)
	}
	select {
	case r := <-h.seen:
		t.Fatalf("a refused page reached the upstream: %s", r.URL.Path)
	default:
	}
}

func TestUpstreamPagingParamsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for _, q := range []string{"/fhir?_getpages=abc&_getpagesoffset=20", "/fhir/Condition?_cursor=x", "/fhir/Condition?_page_token=1", "/fhir/Condition?_page=2"} {
		resp, body := h.get(q, tokConsented)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not-supported") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	select {
	case r := <-h.seen:
		t.Fatalf("a refused request reached the upstream: %s", r.URL.Path)
	default:
	}
}

// testServer is a Server for direct calls (no HTTP).
func testServer(t *testing.T, rules RequestRules) *Server {
	t.Helper()
	u, _ := url.Parse("http://upstream.invalid/fhir/R4")
	srv, err := New(Options{Upstream: u, Requests: rules}, Deps{
		Labeller: labels.Default(), Decider: failingDecider{}, Consents: &fakeConsents{}, Ledger: &fakeLedger{}, Auth: fakeAuth{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestPageTokenExpiryAndBinding(t *testing.T) {
	t.Parallel()
	s := testServer(t, RequestRules{PagingTTL: time.Minute, PagingKey: []byte(strings.Repeat("k", 32))})
	alice := authn.Caller{Issuer: "iss", Subject: "alice", Client: "app", Scopes: []string{"user/*.read"}}
	t0 := time.Unix(1_800_000_000, 0)
	tok, err := s.mintPage(alice, "/Condition?subject=Patient/p1&_offset=20", 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	path, q, _, f := s.openPage(alice, tok, t0.Add(59*time.Second))
	if f != nil || path != "Condition" || q != "subject=Patient/p1&_offset=20" {
		t.Fatalf("open: %q %q %v", path, q, f)
	}
	if _, _, _, f := s.openPage(alice, tok, t0.Add(61*time.Second)); f == nil || f.Status != http.StatusGone {
		t.Fatalf("expired token: %v", f)
	}
	others := map[string]authn.Caller{
		"subject": {Issuer: "iss", Subject: "bob", Client: "app", Scopes: alice.Scopes},
		"issuer":  {Issuer: "other", Subject: "alice", Client: "app", Scopes: alice.Scopes},
		"client":  {Issuer: "iss", Subject: "alice", Client: "app2", Scopes: alice.Scopes},
		"scopes":  {Issuer: "iss", Subject: "alice", Client: "app", Scopes: []string{"user/*.*"}},
		"patient": {Issuer: "iss", Subject: "alice", Client: "app", Scopes: alice.Scopes, Patient: "p1"},
		// one gateway client acting for several organisations
		"org":      {Issuer: "iss", Subject: "alice", Client: "app", Scopes: alice.Scopes, Org: "Organization/org-b"},
		"fhirUser": {Issuer: "iss", Subject: "alice", Client: "app", Scopes: alice.Scopes, FHIRUser: "Practitioner/pr2"},
		// what the first page was decided for (QA round 29)
		"purposes":    {Issuer: "iss", Subject: "alice", Client: "app", Scopes: alice.Scopes, Purposes: []string{"HPAYMT"}},
		"break-glass": {Issuer: "iss", Subject: "alice", Client: "app", Scopes: alice.Scopes, BreakGlass: "unconscious, ED"},
	}
	for name, c := range others {
		// Expired and foreign: still 404, so that a replay tells nothing.
		for _, at := range []time.Time{t0, t0.Add(time.Hour)} {
			if _, _, _, f := s.openPage(c, tok, at); f == nil || f.Status != http.StatusNotFound {
				t.Errorf("%s differs: %v", name, f)
			}
		}
	}
	otherKey := testServer(t, RequestRules{PagingKey: []byte(strings.Repeat("x", 32))})
	if _, _, _, f := otherKey.openPage(alice, tok, t0); f == nil || f.Status != http.StatusBadRequest {
		t.Fatalf("token of another key: %v", f)
	}
	if _, _, _, f := s.openPage(alice, tok[:len(tok)-2], t0); f == nil || f.Status != http.StatusBadRequest {
		t.Fatalf("truncated token: %v", f)
	}
}

func TestPageTokenOutsideBaseRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs), func(o *Options, d *Deps) {
		o.Requests.PagingKey = []byte(strings.Repeat("s", 32))
	})
	u, _ := url.Parse(h.base())
	srv, err := New(Options{Upstream: u, Requests: RequestRules{PagingKey: []byte(strings.Repeat("s", 32))}}, Deps{
		Labeller: h.labellerFor(), Decider: failingDecider{}, Consents: &fakeConsents{}, Ledger: &fakeLedger{}, Auth: fakeAuth{},
	})
	if err != nil {
		t.Fatal(err)
	}
	caller, _ := fakeAuth{}.Verify(t.Context(), tokConsented)
	for _, rel := range []string{"/../admin/audit", "/Patient/..", "/%2e%2e/x"} {
		tok, err := srv.mintPage(caller, rel, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, body := h.get("/fhir/_page/"+tok, tokConsented)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", rel, resp.StatusCode, body)
		}
	}
	select {
	case r := <-h.seen:
		t.Fatalf("reached the upstream: %s", r.URL.Path)
	default:
	}
}

func TestPageTokenRoute(t *testing.T) {
	t.Parallel()
	for path, ok := range map[string]bool{
		"_page/abc-_09": true, "/_page/abc": true, "_page/": false, "_page/a/b": false,
		"_page/a+b": false, "_page/a=": false, "Patient/_page": false, "_pages/abc": false,
	} {
		if _, got := pageTokenOf(path); got != ok {
			t.Errorf("%q: %v, want %v", path, got, ok)
		}
	}
}

func BenchmarkPageTokenMintOpen(b *testing.B) {
	s := &Server{opts: Options{Requests: RequestRules{}.withDefaults()}}
	c := authn.Caller{Issuer: "iss", Subject: "alice", Scopes: []string{"user/*.read"}}
	now := time.Now()
	for b.Loop() {
		tok, _ := s.mintPage(c, "/Condition?subject=Patient/p1&_offset=20&_count=20", 0, now)
		if _, _, _, f := s.openPage(c, tok, now); f != nil {
			b.Fatal(f)
		}
	}
}

// FuzzOpenPage: no input panics, and nothing but a minted token opens.
func FuzzOpenPage(f *testing.F) {
	s := &Server{opts: Options{Requests: RequestRules{PagingKey: []byte(strings.Repeat("f", 32))}.withDefaults()}}
	c := authn.Caller{Subject: "alice"}
	now := time.Unix(1_800_000_000, 0)
	tok, _ := s.mintPage(c, "/Condition?_offset=20", 0, now)
	f.Add(tok)
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, in string) {
		path, q, _, fl := s.openPage(c, in, now)
		if fl == nil && in != tok && (path != "Condition" || q != "_offset=20") {
			t.Fatalf("%q opened as %q %q", in, path, q)
		}
		_, _ = pageTokenOf(in)
	})
}

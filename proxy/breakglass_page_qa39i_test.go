package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// lapsingAuth: token "granted" is breakGlassAuth's emergency clinician in a
// 15-minute token; "lapsed" is the same clinician (issuer, subject,
// client, organisation, scopes, purposes) whose token carries the claim
// but lives two hours, so no emergency is granted (the policy's time box),
// as for a token used past its emergency.
type lapsingAuth struct{}

// lapsingIssued is the tokens' iat, one instant for the test binary: an
// emergency's page token is bound to its token's iat and exp (b7e5c43), so
// an iat read anew per request opened the page for another token when the
// two requests fell in different seconds (seen under load).
var lapsingIssued = time.Now().Add(-time.Minute)

func (lapsingAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	iat := lapsingIssued
	life := 15 * time.Minute
	if raw == "lapsed" {
		life = 2 * time.Hour
	}
	return authn.Caller{
		Issuer: "iss", Subject: "dr-er", Client: "er-app", Org: "Organization/er", Purposes: []string{"ETREAT"}, BreakGlass: "unresponsive, suspected overdose",
		Scopes: []string{"user/*.read"}, IssuedAt: iat, Expiry: iat.Add(life),
	}, nil
}

// TestLapsedEmergencyPageQA39I: the page token binds whether the caller's
// token carries a break-the-glass claim, not whether the emergency was
// granted. A page of p1's $everything minted under a granted emergency
// (p1's Part 2 enrolment shown on page 1) opened for the same clinician's
// token whose claim the policy does not grant, and its later page released
// the Part 2 program's Organization, which the same $everything under
// that token withholds (the enrolment cut).
func TestLapsedEmergencyPageQA39I(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2"}}`)(w, r)
		case r.URL.Query().Get("_getpagesoffset") == "1":
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+
				`{"resource":{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}}]}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
				`{"relation":"next","url":"`+h.base()+`?_getpages=x1&_getpagesoffset=1"}],"entry":[`+
				`{"resource":{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2"}}}]}`)(w, r)
		}
	}, withProgram, func(_ *Options, d *Deps) { d.Auth = lapsingAuth{} })
	page := func(tok1, tok2 string) string {
		t.Helper()
		resp, body := h.get("/fhir/Patient/p1/$everything", tok1)
		next := pageLinksOf(t, body)["next"]
		if resp.StatusCode != http.StatusOK || next == "" {
			t.Fatalf("page 1 (%s): %d %s", tok1, resp.StatusCode, body)
		}
		resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tok2)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
			t.Fatalf("page 2 (%s, then %s): %d %s", tok1, tok2, resp.StatusCode, body)
		}
		return body
	}
	if body := page("granted", "granted"); !strings.Contains(body, "Riverside") {
		t.Fatalf("the emergency's own page 2 withholds the program: %s", body)
	}
	if body := page("lapsed", "lapsed"); strings.Contains(body, "Riverside") {
		t.Fatalf("without a granted emergency page 2 shows the program: %s", body)
	}
	if body := page("granted", "lapsed"); strings.Contains(body, "Riverside") {
		t.Errorf("the emergency's page opened for a token the emergency is not granted to shows the Part 2 program: %s", body)
	}
}

// TestEmergencyPageBoundToItsTimeBoxQA39I: a page token minted under a
// break-the-glass claim opens only for a token with the same claim time
// box (iat, exp), and expires when that token does: the authenticator
// accepts a token for its clock skew past exp, when the policy grants its
// emergency no more.
func TestEmergencyPageBoundToItsTimeBoxQA39I(t *testing.T) {
	t.Parallel()
	s := testServer(t, RequestRules{PagingTTL: 30 * time.Minute, PagingKey: []byte(strings.Repeat("k", 32))})
	t0 := time.Unix(1_800_000_000, 0)
	er := authn.Caller{Issuer: "iss", Subject: "dr-er", Client: "app", Scopes: []string{"user/*.read"}, Purposes: []string{"ETREAT"},
		BreakGlass: "cardiac arrest", IssuedAt: t0.Add(-time.Minute), Expiry: t0.Add(4 * time.Minute)}
	tok, err := s.mintPage(er, "/Condition?subject=Patient/p1&_offset=20", 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, f := s.openPage(er, tok, t0.Add(3*time.Minute)); f != nil {
		t.Fatalf("the emergency's own page: %v", f)
	}
	if _, _, _, f := s.openPage(er, tok, t0.Add(4*time.Minute+time.Second)); f == nil || f.Status != http.StatusGone {
		t.Errorf("the emergency's page past its token's exp: %v, want 410", f)
	}
	longLived := er
	longLived.IssuedAt, longLived.Expiry = t0.Add(-time.Minute), t0.Add(2*time.Hour)
	if _, _, _, f := s.openPage(longLived, tok, t0.Add(time.Minute)); f == nil || f.Status != http.StatusNotFound {
		t.Errorf("the emergency's page for another token of the clinician carrying a claim: %v, want 404", f)
	}
	// Without a claim a page keeps the paging TTL.
	plain := er
	plain.BreakGlass = ""
	tok, err = s.mintPage(plain, "/Condition?subject=Patient/p1&_offset=20", 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, f := s.openPage(plain, tok, t0.Add(20*time.Minute)); f != nil {
		t.Errorf("a page without a claim: %v", f)
	}
}

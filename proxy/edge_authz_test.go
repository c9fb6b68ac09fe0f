package proxy

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TestAuthorizationHeaderReadOnce: a request with two Authorization
// headers was judged by the first, while a server or a proxy in between
// may read the other: it is refused (401). The scheme is case-insensitive
// (RFC 9110): "bearer" was refused as no token (QA round 26, area B).
func TestAuthorizationHeaderReadOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	get := func(auth ...string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, h.proxy.URL+"/fhir/Observation/bp1", nil)
		for _, a := range auth {
			req.Header.Add("Authorization", a)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("Bearer "+tokAll, "Bearer "+tokOther); code != http.StatusUnauthorized || !strings.Contains(body, "more than one Authorization header") {
		t.Errorf("two headers: %d %s, want 401", code, body)
	}
	for _, scheme := range []string{"Bearer ", "bearer ", "BEARER "} {
		if code, body := get(scheme + tokAll); code != http.StatusOK {
			t.Errorf("%q: %d %s, want 200", scheme, code, body)
		}
	}
	for _, bad := range []string{"Bearer", "Bearer  ", "Basic " + tokAll, "Bearertoken"} {
		if code, _ := get(bad); code != http.StatusUnauthorized {
			t.Errorf("%q: %d, want 401", bad, code)
		}
	}
}

// TestRelatedPersonBreakGlassIgnored: 42 CFR 2.51 lets a program disclose
// to medical personnel in an emergency; a RelatedPerson's or a Person's
// token (a parent, a caregiver, launched in the patient's context) kept
// its break-the-glass claim, which a patient's own token loses
// (TestPatientBreakGlassIgnored), and read the Part 2 record as an
// emergency disclosure (QA round 26, area B).
func TestRelatedPersonBreakGlassIgnored(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser string) string {
		now := time.Now()
		tok, _ := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("someone").
			IssuedAt(now.Add(-time.Minute)).Expiration(now.Add(10*time.Minute)).
			Claim("org", "Organization/er").Claim("scope", "patient/*.read").Claim("fhirUser", fhirUser).Claim("patient", "p1").
			Claim("purpose_of_use", []any{"ETREAT"}).Claim("break_glass_reason", "unresponsive, suspected overdose").Build()
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed)
	}
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Auth = v
		d.Logger = slog.New(slog.DiscardHandler)
	})
	for _, who := range []string{"RelatedPerson/mother", "Person/carer"} {
		if resp, body := h.get("/fhir/Condition/p2c", mint(who)); resp.StatusCode != 404 || strings.Contains(body, "F11.20") {
			t.Errorf("%s's emergency claim: %d %s, want 404", who, resp.StatusCode, body)
		}
	}
	for _, e := range h.ledger.entries {
		if e.BreakGlass != nil {
			t.Errorf("ledger records a 2.51 disclosure to a related person: %+v", e)
		}
	}
	if resp, body := h.get("/fhir/Condition/p2c", mint("Practitioner/dr-er")); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
		t.Errorf("a clinician's emergency claim in the patient's context: %d %s", resp.StatusCode, body)
	}
}

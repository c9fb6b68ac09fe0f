package proxy

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestEmergencyClaimsAsTokensStateThem (QA round 20): break-the-glass and
// purposes read from signed tokens, through the proxy. An emergency claim
// whose reason shows nothing (four NULs, four zero-width spaces), an
// ETREAT of another code system, or ETREAT beside a purpose the proxy
// cannot read discloses no Part 2 data and flags nothing; a real one
// does, and its 2.51 record keeps the reason on one line, while the log
// names neither the reason nor the patient.
func TestEmergencyClaimsAsTokensStateThem(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(purposes any, reason string) string {
		now := time.Now()
		tok, _ := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("dr-er").
			IssuedAt(now.Add(-time.Minute)).Expiration(now.Add(10*time.Minute)).
			Claim("org", "Organization/er").Claim("scope", "user/*.read").
			Claim("purpose_of_use", purposes).Claim("break_glass_reason", reason).Build()
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed)
	}
	logs := &lockedBuffer{}
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Auth = v
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	for name, tok := range map[string]string{
		"NUL reason":                   mint([]any{"ETREAT"}, "\x00\x00\x00\x00"),
		"zero-width reason":            mint([]any{"ETREAT"}, "\u200b\u200b\u200b\u200b"),
		"ETREAT of a local system":     mint([]any{"http://example.org/local-purposes|ETREAT"}, "unresponsive"),
		"ETREAT and a number":          mint([]any{"ETREAT", 7}, "unresponsive"),
		"ETREAT and a CodeableConcept": mint([]any{"ETREAT", map[string]any{"coding": []any{map[string]any{"code": "HMARKT"}}}}, "unresponsive"),
	} {
		before := len(h.ledger.entries)
		resp, body := h.get("/fhir/Condition/p2c", tok)
		if resp.StatusCode != 404 || strings.Contains(body, "F11.20") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		for _, e := range h.ledger.entries[before:] {
			if e.BreakGlass != nil || len(e.Disclosed) != 0 {
				t.Errorf("%s: ledger %+v", name, e)
			}
		}
	}
	before := len(h.ledger.entries)
	resp, body := h.get("/fhir/Condition/p2c", mint([]any{"urn:oid:2.16.840.1.113883.5.8#ETREAT"}, "unresponsive\r\nsuspected\x00 overdose"))
	if resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
		t.Fatalf("emergency read: %d %s", resp.StatusCode, body)
	}
	es := h.ledger.entries[before:]
	if len(es) != 1 || es[0].BreakGlass == nil || es[0].BreakGlass.Reason != "unresponsive suspected overdose" {
		t.Fatalf("ledger: %+v", es)
	}
	if out := logs.String(); !strings.Contains(out, "break-the-glass disclosure") || strings.Contains(out, "overdose") || strings.Contains(out, "Patient/p1") {
		t.Fatalf("log: %s", out)
	}
}

// TestForeignSystemPurposeHint (QA round 20): a v3-ActReason code under
// another system, which the proxy no longer reads as that code, is warned
// of with the system that would do, so the operator knows what to fix.
func TestForeignSystemPurposeHint(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	s := &Server{log: slog.New(slog.NewJSONHandler(logs, nil))}
	s.hints.check(s, "r", callerWithPurpose(authn.NormalizePurpose("http://example.org/pou|TREAT")))
	out := logs.String()
	if !strings.Contains(out, `"purpose":"http://example.org/pou|TREAT"`) ||
		!strings.Contains(out, `"did_you_mean":"http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT"`) {
		t.Fatalf("warning: %s", out)
	}
}

// devTokenVerifier returns a dev signing key, a verifier of the tokens it
// signs (with opts applied to its configuration) and the data directory
// that holds the key (authn.MintDev's), so tests send real signed tokens
// through the proxy.
func devTokenVerifier(t *testing.T, opts ...func(*authn.Config)) (jwk.Key, *authn.Verifier, string) {
	t.Helper()
	dir := t.TempDir()
	key, err := authn.DevSigningKey(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := authn.DevPublicKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := authn.Config{DevKeys: pub, Issuer: authn.DevIssuer, Audience: authn.DevAudience, CacheSize: -1}
	for _, o := range opts {
		o(&cfg)
	}
	v, err := authn.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return key, v, dir
}

package proxy

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// TestPatientBreakGlassIgnored: a patient's own token (fhirUser Patient/p1)
// claiming break-the-glass read their Part 2 record by the 42 CFR 2.51
// emergency rule, which the ledger recorded as a medical emergency
// disclosure to the patient's login and queued for review (QA round 20).
// 2.51 is for medical personnel: the claim is ignored, and ETREAT alone
// discloses no Part 2 data; the patient's right of access (PATRQT) does.
func TestPatientBreakGlassIgnored(t *testing.T) {
	t.Parallel()
	key, v, _ := devTokenVerifier(t)
	mint := func(fhirUser, purpose string) string {
		now := time.Now()
		b := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("someone").
			IssuedAt(now.Add(-time.Minute)).Expiration(now.Add(10*time.Minute)).
			Claim("org", "Organization/er").Claim("scope", "patient/*.read user/*.read").Claim("fhirUser", fhirUser).
			Claim("purpose_of_use", []any{purpose}).Claim("break_glass_reason", "unresponsive, suspected overdose")
		if strings.HasPrefix(fhirUser, "Patient/") {
			b = b.Claim("patient", strings.TrimPrefix(fhirUser, "Patient/"))
		}
		tok, _ := b.Build()
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
	resp, body := h.get("/fhir/Condition/p2c", mint("Patient/p1", "ETREAT"))
	if resp.StatusCode != 404 || strings.Contains(body, "F11.20") {
		t.Errorf("a patient's emergency claim: %d %s, want 404", resp.StatusCode, body)
	}
	for _, e := range h.ledger.entries {
		if e.BreakGlass != nil {
			t.Errorf("ledger records a 2.51 disclosure to the patient: %+v", e)
		}
	}
	if !strings.Contains(logs.String(), "break-the-glass claim of a patient's own token ignored") {
		t.Errorf("log: %s", logs.String())
	}
	// A clinician's claim still works, and is recorded.
	if resp, body := h.get("/fhir/Condition/p2c", mint("Practitioner/dr-er", "ETREAT")); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
		t.Fatalf("a clinician's emergency claim: %d %s", resp.StatusCode, body)
	}
	if e := h.ledger.entries[len(h.ledger.entries)-1]; e.BreakGlass == nil {
		t.Errorf("the clinician's emergency disclosure has no 2.51 record: %+v", e)
	}
}

// TestSimulationReadsPurposesAsTokens: /admin/decide took purposes and the
// emergency reason raw, so a reason of NUL characters was granted in a
// simulation and refused for a token, and T-TREAT was unknown there and
// TREAT in a token (QA round 20). A simulated patient's claim is ignored as
// the edge ignores it.
func TestSimulationReadsPurposesAsTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for name, c := range map[string]struct {
		body, want string
	}{
		"NUL reason":        {decideBody("Organization/er", "ETREAT", `\u0000\u0000\u0000\u0000`, "", part2Condition), "deny"},
		"visible reason":    {decideBody("Organization/er", "ETREAT", "cardiac arrest", "", part2Condition), "permit"},
		"patient's claim":   {strings.Replace(decideBody("Organization/er", "ETREAT", "cardiac arrest", "", part2Condition), `"subject":"sim"`, `"subject":"sim","fhir_user":"Patient/p1"`, 1), "deny"},
		"ActReason by OID":  {decideBody("Organization/er", "urn:oid:2.16.840.1.113883.5.8|ETREAT", "cardiac arrest", "", part2Condition), "permit"},
		"ETREAT elsewhere":  {decideBody("Organization/er", "http://example.org/local|ETREAT", "cardiac arrest", "", part2Condition), "deny"},
		"ordinary by token": {decideBody("Organization/org-b", "urn:oid:2.16.840.1.113883.5.8|TREAT", "", "", bpObs), "permit"},
	} {
		resp, out := h.post("/admin/decide", tokAdmin, c.body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, out)
		}
		var got DecideResponse
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 1 || got.Items[0].Decision.Effect != c.want {
			t.Errorf("%s: %s, want %s", name, out, c.want)
		}
	}
}

// TestSimulationKeepsClientPurposes: /admin/decide applies
// auth.client_purposes to a simulated caller's client as the verifier does
// to its tokens, so a policy author sees what the payer's app would get.
func TestSimulationKeepsClientPurposes(t *testing.T) {
	t.Parallel()
	_, v, dir := devTokenVerifier(t, func(c *authn.Config) {
		c.ClientPurposes = map[string][]string{"payer-app": {"HPAYMT"}}
	})
	author, err := authn.MintDev(dir, authn.DevClaims{Subject: "analyst", Org: "Organization/ops", Scopes: []string{authn.PolicyAuthorScope}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Auth = v })
	for client, want := range map[string]string{"payer-app": "deny", "ehr": "permit"} {
		body := strings.Replace(decideBody("Organization/org-b", "TREAT", "", "", bpObs), `"subject":"sim"`, `"subject":"sim","client":"`+client+`"`, 1)
		resp, out := h.post("/admin/decide", author, body)
		var got DecideResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(out), &got) != nil || len(got.Items) != 1 || got.Items[0].Decision.Effect != want {
			t.Errorf("client %s stating TREAT: %d %s, want %s", client, resp.StatusCode, out, want)
		}
	}
}

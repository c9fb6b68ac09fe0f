package authn_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestPurposeOfAnotherSystemIsNotActReason (QA round 20): a purpose code
// qualified by a system is read in that system. "TREAT" of a local code
// system, or of SNOMED, is not v3-ActReason treatment: it is kept as
// system|code, a purpose the policy does not know. The v3-ActReason system
// in its spellings (THO URL, pre-THO URL, OID) and the v3-PurposeOfUse
// value set still give the code; the TEFCA system gives its mapping, and a
// code the TEFCA system does not hold is not guessed.
func TestPurposeOfAnotherSystemIsNotActReason(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   any
		want string
	}{
		{"TREAT", "TREAT"},
		{" ETREAT ", "ETREAT"},
		{"T-TREAT", "TREAT"},
		{"http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT", "TREAT"},
		{"http://hl7.org/fhir/v3/ActReason#HPAYMT", "HPAYMT"},
		{"urn:oid:2.16.840.1.113883.5.8#ETREAT", "ETREAT"},
		{"2.16.840.1.113883.5.8#ETREAT", "ETREAT"},
		{"http://terminology.hl7.org/ValueSet/v3-PurposeOfUse|PUBHLTH", "PUBHLTH"},
		{"urn:oid:2.16.840.1.113883.3.7204.1.5.2.1#T-TREAT", "TREAT"},
		{"urn:oid:2.16.840.1.113883.3.7204.1.5.2.1#T-PYMNT", "HPAYMT"},
		{map[string]any{"system": "urn:oid:2.16.840.1.113883.5.8", "code": "ETREAT"}, "ETREAT"},
		{map[string]any{"code": "TREAT"}, "TREAT"},
		// Another system's code is not v3-ActReason's, whatever it spells.
		{"http://snomed.info/sct|TREAT", "http://snomed.info/sct|TREAT"},
		{"http://example.org/local-purposes#ETREAT", "http://example.org/local-purposes|ETREAT"},
		{map[string]any{"system": "x", "code": "TREAT"}, "x|TREAT"},
		{map[string]any{"system": "http://example.org/pou", "code": "ETREAT"}, "http://example.org/pou|ETREAT"},
		// A code its system does not hold.
		{"urn:oid:2.16.840.1.113883.3.7204.1.5.2.1#TREAT", "urn:oid:2.16.840.1.113883.3.7204.1.5.2.1|TREAT"},
		{"http://terminology.hl7.org/CodeSystem/v3-ActReason|T-TREAT", "http://terminology.hl7.org/CodeSystem/v3-ActReason|T-TREAT"},
		{map[string]any{"system": 7, "code": "TREAT"}, ""},
		{"urn:oid:2.16.840.1.113883.5.8#", ""},
	} {
		if got := authn.NormalizePurpose(c.in); got != c.want {
			t.Errorf("NormalizePurpose(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestUnreadablePurposeCounts (QA round 20): a purpose claim value the
// proxy cannot read (a number, a CodeableConcept, a Coding without a
// string code, a system with no code) was dropped, so a token stating
// ETREAT beside it read as ETREAT alone and passed the emergency rule
// "nothing beyond the emergency purposes". It now counts as an unknown
// purpose; null and blank strings still state nothing.
func TestUnreadablePurposeCounts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		claim any
		want  []string
	}{
		{[]any{"ETREAT", 42}, []string{"ETREAT", authn.UnreadablePurpose}},
		{[]any{"ETREAT", map[string]any{"coding": []any{map[string]any{"code": "HMARKT"}}}}, []string{"ETREAT", authn.UnreadablePurpose}},
		{[]any{"ETREAT", "urn:oid:2.16.840.1.113883.5.8#"}, []string{"ETREAT", authn.UnreadablePurpose}},
		{[]any{"ETREAT", []any{"HMARKT"}}, []string{"ETREAT", authn.UnreadablePurpose}},
		{[]any{"ETREAT", nil, "  "}, []string{"ETREAT"}},
		{true, []string{authn.UnreadablePurpose}},
	} {
		tok, err := jwt.NewBuilder().Subject("s").Claim("purpose_of_use", c.claim).Build()
		if err != nil {
			t.Fatal(err)
		}
		if got := authn.Purposes(tok); !slices.Equal(got, c.want) {
			t.Errorf("purpose_of_use %#v: Purposes = %q, want %q", c.claim, got, c.want)
		}
	}
}

// TestBreakGlassReasonShowsSomething (QA round 20): the default policy
// grants emergency access to a reason of at least 4 characters after
// trimming spaces, and "\x00\x00\x00\x00" or four zero-width spaces
// passed, leaving a 42 CFR 2.51(c) record whose nature of the emergency
// shows nothing. Such a claim is no claim; a newline or tab in a reason
// becomes a space; a reason is kept to MaxBreakGlassReasonBytes.
func TestBreakGlassReasonShowsSomething(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, err := authn.DevSigningKey(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	v := devVerifier(t, dir)
	long := strings.Repeat("é", authn.MaxBreakGlassReasonBytes)
	for in, want := range map[string]string{
		"unresponsive, suspected overdose":          "unresponsive, suspected overdose",
		"\x00\x00\x00\x00":                          "",
		"\u200b\u200b\u200b\u200b":                  "",
		"\u3164\u3164\u3164\u3164\ufe0f":            "",
		"\u2028\u00a0\t\r\n ":                       "",
		"\x1b[31m\x00":                              "[31m",
		"  unresponsive\r\n\r\nFAKE audit line\x00": "unresponsive FAKE audit line",
		"\xff\xfe\xfd\xfc":                          "",
	} {
		tok, _ := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("dr").
			IssuedAt(time.Now()).Expiration(time.Now().Add(10*time.Minute)).
			Claim("purpose_of_use", "ETREAT").Claim("break_glass_reason", in).Build()
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), string(signed))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if c.BreakGlass != want {
			t.Errorf("break_glass_reason %q: BreakGlass = %q, want %q", in, c.BreakGlass, want)
		}
	}
	got := authn.BreakGlassReason(long)
	if len(got) > authn.MaxBreakGlassReasonBytes || !utf8.ValidString(got) || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("a long reason kept as %d bytes (valid UTF-8 %v)", len(got), utf8.ValidString(got))
	}
}

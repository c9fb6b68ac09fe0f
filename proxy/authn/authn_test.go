package authn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func devVerifier(t *testing.T, dir string) *authn.Verifier {
	t.Helper()
	keys, err := authn.DevPublicKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := authn.NewVerifier(context.Background(), authn.Config{
		DevKeys: keys, Issuer: authn.DevIssuer, Audience: authn.DevAudience, Skew: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDevTokenRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok, err := authn.MintDev(dir, authn.DevClaims{
		Subject: "dr-alice", Org: "Organization/org-a", Client: "ehr",
		Purposes: []string{"TREAT"}, Scopes: []string{"patient/*.read", authn.AuditorScope},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := devVerifier(t, dir).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "dr-alice" || c.Org != "Organization/org-a" || c.Client != "ehr" ||
		!slices.Equal(c.Purposes, []string{"TREAT"}) || !c.HasScope(authn.AuditorScope) {
		t.Fatalf("caller = %+v", c)
	}
}

// TestPatientClaimIdentifier: a patient claim given as system|value is kept
// as PatientIdentifier for the proxy to resolve, never as a patient id.
func TestPatientClaimIdentifier(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for claim, want := range map[string][2]string{
		"urn:oid:1.2.3|MRN-7": {"", "urn:oid:1.2.3|MRN-7"},
		"Patient/p-1":         {"p-1", ""},
	} {
		tok, err := authn.MintDev(dir, authn.DevClaims{Subject: "s", Patient: claim})
		if err != nil {
			t.Fatal(err)
		}
		c, err := devVerifier(t, dir).Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.Patient != want[0] || c.PatientIdentifier != want[1] {
			t.Fatalf("claim %q: Patient %q, PatientIdentifier %q; want %q", claim, c.Patient, c.PatientIdentifier, want)
		}
	}
}

// TestRecipientNameAddressClaims: the recipient's name and address come
// from org_name and org_address, or the configured claims.
func TestRecipientNameAddressClaims(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok, err := authn.MintDev(dir, authn.DevClaims{Subject: "s", OrgName: "Riverside Clinic", OrgAddress: "1 Main St"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := devVerifier(t, dir).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.OrgName != "Riverside Clinic" || c.OrgAddress != "1 Main St" {
		t.Fatalf("name %q, address %q", c.OrgName, c.OrgAddress)
	}
}

func TestNoPurposeMeansNone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tok, err := authn.MintDev(dir, authn.DevClaims{Subject: "s", Org: "Organization/o"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := devVerifier(t, dir).Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Purposes) != 0 {
		t.Fatalf("purposes = %v, want none", c.Purposes)
	}
}

func TestRefusedTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, err := authn.MintDev(dir, authn.DevClaims{Subject: "s", Org: "Organization/o", Purposes: []string{"TREAT"}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := authn.DevSigningKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.PublicKey()
	pubJSON, _ := json.Marshal(pub)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	sign := func(mod func(b *jwt.Builder) *jwt.Builder, alg jwa.SignatureAlgorithm, k any) string {
		b := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("s").
			IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour))
		tok, err := mod(b).Build()
		if err != nil {
			t.Fatal(err)
		}
		s, err := jwt.Sign(tok, jwt.WithKey(alg, k))
		if err != nil {
			t.Fatal(err)
		}
		return string(s)
	}
	same := func(b *jwt.Builder) *jwt.Builder { return b }
	parts := strings.Split(good, ".")
	tamperedPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","iss":"ds4p-dev","aud":"ds4p","exp":9999999999,"scope":"ds4p/admin"}`)) + "." + parts[2]
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))

	cases := map[string]string{
		"empty":             "",
		"garbage":           "not.a.token",
		"alg none":          noneHeader + "." + parts[1] + ".",
		"hmac with pub key": sign(same, jwa.HS256, pubJSON),
		"unknown key":       sign(same, jwa.ES256, other),
		"expired": sign(func(b *jwt.Builder) *jwt.Builder {
			return b.Expiration(time.Now().Add(-time.Hour))
		}, jwa.ES256, key),
		"future nbf": sign(func(b *jwt.Builder) *jwt.Builder {
			return b.NotBefore(time.Now().Add(time.Hour))
		}, jwa.ES256, key),
		"future iat": sign(func(b *jwt.Builder) *jwt.Builder {
			return b.IssuedAt(time.Now().Add(time.Hour))
		}, jwa.ES256, key),
		"iat beyond skew": sign(func(b *jwt.Builder) *jwt.Builder {
			return b.IssuedAt(time.Now().Add(time.Minute))
		}, jwa.ES256, key),
		"no exp": sign(func(*jwt.Builder) *jwt.Builder {
			return jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("s").IssuedAt(time.Now())
		}, jwa.ES256, key),
		"patient claim not an id": sign(func(b *jwt.Builder) *jwt.Builder {
			return b.Claim("patient", map[string]any{"id": "p1"})
		}, jwa.ES256, key),
		"patient claim a path": sign(func(b *jwt.Builder) *jwt.Builder {
			return b.Claim("patient", "p1/../p2")
		}, jwa.ES256, key),
		"patient claim an identifier without value": sign(func(b *jwt.Builder) *jwt.Builder {
			return b.Claim("patient", "urn:oid:1.2.3|")
		}, jwa.ES256, key),
		"unknown kid": func() string {
			k, _ := jwk.FromRaw(other)
			_ = k.Set(jwk.KeyIDKey, "not-a-known-kid")
			return sign(same, jwa.ES256, k)
		}(),
		"wrong issuer":     sign(func(b *jwt.Builder) *jwt.Builder { return b.Issuer("evil") }, jwa.ES256, key),
		"wrong audience":   sign(func(b *jwt.Builder) *jwt.Builder { return b.Audience([]string{"other"}) }, jwa.ES256, key),
		"tampered payload": tamperedPayload,
		"tampered sig":     good[:len(good)-4] + "AAAA",
		"oversized":        strings.Repeat("a", authn.MaxTokenBytes+1),
	}
	// Signed with the right key, but read two ways by JSON readers (QA).
	rawSign := func(payload string, crit bool) string {
		hdr := jws.NewHeaders()
		if crit {
			_ = hdr.Set("crit", []string{"exp-ext"})
			_ = hdr.Set("exp-ext", true)
		}
		b, err := jws.Sign([]byte(payload), jws.WithKey(jwa.ES256, key, jws.WithProtectedHeaders(hdr)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	claims := `"iss":"` + authn.DevIssuer + `","aud":"` + authn.DevAudience + `","exp":` + exp
	if _, err := devVerifier(t, dir).Verify(context.Background(), rawSign(`{"sub":"s",`+claims+`}`, false)); err != nil {
		t.Fatalf("the raw signer's control token was refused: %v", err)
	}
	cases["duplicate sub"] = rawSign(`{"sub":"first","sub":"second",`+claims+`}`, false)
	cases["duplicate scope"] = rawSign(`{"sub":"s","scope":"user/*.read","scope":"ds4p/auditor",`+claims+`}`, false)
	cases["crit header"] = rawSign(`{"sub":"s",`+claims+`}`, true)
	cases["exp as a string"] = rawSign(`{"sub":"s","iss":"`+authn.DevIssuer+`","aud":"`+authn.DevAudience+`","exp":"`+exp+`"}`, false)
	v := devVerifier(t, dir)
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(context.Background(), tok)
			if !errors.Is(err, authn.ErrUnauthenticated) {
				t.Fatalf("Verify(%s) err = %v, want ErrUnauthenticated", name, err)
			}
		})
	}
}

func TestPurposeNormalisation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		want string
	}{
		{"TREAT", "TREAT"},
		{"http://terminology.hl7.org/CodeSystem/v3-ActReason#HPAYMT", "HPAYMT"},
		{"urn:oid:2.16.840.1.113883.3.7204.1.5.2.1#T-TREAT", "TREAT"},
		{"T-PYMNT", "HPAYMT"},
		{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT"}, "ETREAT"},
		{42, ""},
	}
	for _, c := range cases {
		if got := authn.NormalizePurpose(c.in); got != c.want {
			t.Errorf("NormalizePurpose(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestIUAPurposeClaim(t *testing.T) {
	t.Parallel()
	tok, err := jwt.NewBuilder().Subject("s").
		Claim("ihe_iua", map[string]any{"purpose_of_use": map[string]any{"system": "urn:oid:2.16.840.1.113883.5.8", "code": "TREAT"}}).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	// Round-trip through JSON so claims look as they do after parsing.
	b, _ := json.Marshal(tok)
	parsed, err := jwt.Parse(b, jwt.WithVerify(false), jwt.WithValidate(false))
	if err != nil {
		t.Fatal(err)
	}
	if got := authn.Purposes(parsed); !slices.Equal(got, []string{"TREAT"}) {
		t.Fatalf("Purposes = %v", got)
	}
}

func TestKeyFileRefusesSymmetricKeys(t *testing.T) {
	t.Parallel()
	k, _ := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	b, _ := json.Marshal(k)
	path := t.TempDir() + "/k.jwk"
	if err := writeFile(path, b); err != nil {
		t.Fatal(err)
	}
	if _, err := authn.NewVerifier(context.Background(), authn.Config{KeyFile: path}); err == nil {
		t.Fatal("symmetric key file accepted")
	}
}

// TestRSAKeyConfusion: a verifier that trusts an RSA public key refuses a
// token MACed with HS256 using that key's bytes (PEM or JWK) as the secret,
// and accepts the genuine RS256 token.
func TestRSAKeyConfusion(t *testing.T) {
	t.Parallel()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	path := t.TempDir() + "/rsa.pem"
	if err := writeFile(path, pemBytes); err != nil {
		t.Fatal(err)
	}
	v, err := authn.NewVerifier(context.Background(), authn.Config{KeyFile: path, Issuer: "https://idp", Audience: "ds4p"})
	if err != nil {
		t.Fatal(err)
	}
	build := func() jwt.Token {
		tok, _ := jwt.NewBuilder().Issuer("https://idp").Audience([]string{"ds4p"}).Subject("s").
			Claim("scope", "user/*.cruds").IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).Build()
		return tok
	}
	genuine, err := jwt.Sign(build(), jwt.WithKey(jwa.RS256, priv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), string(genuine)); err != nil {
		t.Fatalf("genuine RS256 token refused: %v", err)
	}
	pubJWK, _ := jwk.FromRaw(&priv.PublicKey)
	jwkJSON, _ := json.Marshal(pubJWK)
	for name, secret := range map[string][]byte{"pem": pemBytes, "der": der, "jwk": jwkJSON} {
		forged, err := jwt.Sign(build(), jwt.WithKey(jwa.HS256, secret))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), string(forged)); !errors.Is(err, authn.ErrUnauthenticated) {
			t.Errorf("HS256 keyed with the RSA public key (%s) accepted: %v", name, err)
		}
	}
}

func TestConfiguredClaimNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key, err := authn.DevSigningKey(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := authn.DevPublicKeys(dir)
	v, err := authn.NewVerifier(context.Background(), authn.Config{
		DevKeys: keys, Issuer: authn.DevIssuer, Audience: authn.DevAudience,
		Claims: authn.ClaimNames{
			Purposes:       []string{"ext.pou", "tefca_purpose"},
			Org:            "organization",
			OrgIdentifiers: "org_ids",
			BreakGlass:     "emergency.reason",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("s").
		IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).
		Claim("ext", map[string]any{"pou": []any{"ETREAT"}}).
		Claim("tefca_purpose", "T-TREAT").
		Claim("purpose_of_use", "HMARKT"). // a default claim, not configured here: ignored
		Claim("organization", "Organization/o1").
		Claim("org_ids", []any{"urn:oid:1.2.3|42"}).
		Claim("emergency.reason", "overdose").
		Claim("patient", "p1").
		Build()
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), string(signed))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Purposes, []string{"ETREAT", "TREAT"}) || c.Org != "Organization/o1" ||
		!slices.Equal(c.OrgIdentifiers, []string{"urn:oid:1.2.3|42"}) || c.BreakGlass != "overdose" || c.Patient != "p1" {
		t.Fatalf("caller = %+v", c)
	}
}

// TestFHIRUserClaim: SMART's fhirUser is kept as Type/id, from a relative
// reference or an absolute URL, and only when it names a user resource
// with a plain id; anything else is no fhirUser (the patient's right of
// access then does not apply).
func TestFHIRUserClaim(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for claim, want := range map[string]string{
		"Patient/p-1": "Patient/p-1",
		"https://ehr.example.org/fhir/Patient/p-1":               "Patient/p-1",
		"Practitioner/dr.7":                                      "Practitioner/dr.7",
		"https://ehr.example.org/patient/fhir/Practitioner/dr.7": "Practitioner/dr.7",
		"RelatedPerson/rp":                                       "RelatedPerson/rp",
		"Observation/o1":                                         "",
		"Patient/p-1/_history/2":                                 "",
		"Patient/p-1?x=1":                                        "",
		"Patient/p 1":                                            "",
		"Patient/":                                               "",
		"Practitioner/x/Patient/p-1":                             "",
		"Group/g/Patient/p-1":                                    "",
		"p-1":                                                    "",
		"https://ehr.example.org":                                "",
		"":                                                       "",
	} {
		tok, err := authn.MintDev(dir, authn.DevClaims{Subject: "s", FHIRUser: claim})
		if err != nil {
			t.Fatal(err)
		}
		c, err := devVerifier(t, dir).Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.FHIRUser != want {
			t.Errorf("fhirUser %q: %q, want %q", claim, c.FHIRUser, want)
		}
		if absolute := want != "" && strings.Contains(claim, "://"); absolute && c.FHIRUserURL != claim || !absolute && c.FHIRUserURL != "" {
			t.Errorf("fhirUser %q: FHIRUserURL %q", claim, c.FHIRUserURL)
		}
		// Every claim naming a Patient, and with no patient claim every
		// claim not read (who it names may be a patient), marks a patient
		// user, whom the proxy binds to the compartment or refuses; one
		// read as another type is not one.
		if patientUser := strings.HasPrefix(want, "Patient/") || want == "" && claim != ""; c.PatientUser != patientUser {
			t.Errorf("fhirUser %q: PatientUser %v, want %v", claim, c.PatientUser, patientUser)
		}
	}
}

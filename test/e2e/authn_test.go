package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func init() {
	register("TokenAttacks", testTokenAttacks)
	register("ScopeEscalation", testScopeEscalation)
	register("AdminRoles", testAdminRoles)
}

// firstOf returns a resource of type typ of patient (e.g. "Patient/pat-1").
func firstOf(t *testing.T, ds *synth.Dataset, patient, typ string) synth.Resource {
	t.Helper()
	for _, r := range ds.ByPatient(patient) {
		if r.Type == typ {
			return r
		}
	}
	t.Fatalf("the dataset has no %s of %s", typ, patient)
	return synth.Resource{}
}

// leaks reports whether body carries anything of resource r or its patient.
func leaks(body []byte, r synth.Resource) bool {
	s := string(body)
	return strings.Contains(s, `"`+r.ID+`"`) || strings.Contains(s, `"resourceType":"`+r.Type+`"`) ||
		(r.Patient != "" && strings.Contains(s, `"reference":"`+r.Patient+`"`))
}

// testTokenAttacks: forged, stale, misdirected and oversized tokens, each
// against the real proxy in front of Medplum: 401, and nothing of the
// resource in the answer.
func testTokenAttacks(t *testing.T, e *env) {
	obs := firstOf(t, e.ds, "Patient/pat-1", "Observation")
	path := "/fhir/Observation/" + obs.ID

	key, err := authn.DevSigningKey(e.data, false)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.PublicKey()
	pubJSON, _ := json.Marshal(pub)
	otherRaw, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := jwk.FromRaw(otherRaw)
	_ = other.Set(jwk.KeyIDKey, "attacker-kid")

	claims := func() *jwt.Builder {
		now := time.Now()
		return jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("mallory").
			Claim("org", orgConsented).Claim("purpose_of_use", []string{"TREAT"}).Claim("scope", "user/*.read").
			IssuedAt(now).NotBefore(now).Expiration(now.Add(time.Hour))
	}
	sign := func(b *jwt.Builder, alg jwa.SignatureAlgorithm, k any) string {
		tok, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		s, err := jwt.Sign(tok, jwt.WithKey(alg, k))
		if err != nil {
			t.Fatal(err)
		}
		return string(s)
	}
	good := sign(claims(), jwa.ES256, key)
	if r := e.do(t, http.MethodGet, path, good, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), obs.ID) {
		t.Fatalf("the control token was refused: %d %s", r.Status, r.Body)
	}
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedPayload := strings.Replace(string(payload), `"sub":"mallory"`, `"sub":"admin!!"`, 1)
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	hour := time.Hour

	attacks := map[string]string{
		"alg none":                    noneHeader + "." + parts[1] + ".",
		"alg none with signature":     noneHeader + "." + parts[1] + "." + parts[2],
		"HS256 keyed with public key": sign(claims(), jwa.HS256, pubJSON),
		"expired":                     sign(claims().Expiration(time.Now().Add(-hour)).IssuedAt(time.Now().Add(-2*hour)).NotBefore(time.Now().Add(-2*hour)), jwa.ES256, key),
		"future nbf":                  sign(claims().NotBefore(time.Now().Add(hour)), jwa.ES256, key),
		"future iat":                  sign(claims().IssuedAt(time.Now().Add(hour)), jwa.ES256, key),
		"wrong iss":                   sign(claims().Issuer("https://evil.example"), jwa.ES256, key),
		"wrong aud":                   sign(claims().Audience([]string{"another-api"}), jwa.ES256, key),
		"unknown kid":                 sign(claims(), jwa.ES256, other),
		"tampered payload":            parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tamperedPayload)) + "." + parts[2],
		"tampered signature":          parts[0] + "." + parts[1] + "." + flipLast(parts[2]),
		"oversized":                   sign(claims().Claim("pad", strings.Repeat("x", authn.MaxTokenBytes)), jwa.ES256, key),
		"not a JWT":                   "eyJhbGciOiJFUzI1NiJ9",
	}
	for name, tok := range attacks {
		t.Run(name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, path, tok, nil)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
			}
			if leaks(r.Body, obs) || !strings.Contains(string(r.Body), "OperationOutcome") {
				t.Fatalf("the refusal carries data or no OperationOutcome: %s", r.Body)
			}
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func flipLast(sig string) string {
	b := []byte(sig)
	if b[len(b)-2] == 'A' {
		b[len(b)-2] = 'B'
	} else {
		b[len(b)-2] = 'A'
	}
	return string(b)
}

// testScopeEscalation: valid tokens asking for more than their SMART scopes
// or their patient compartment allow.
func testScopeEscalation(t *testing.T, e *env) {
	own := "pat-1"
	obs1 := firstOf(t, e.ds, "Patient/"+own, "Observation")
	obs2 := firstOf(t, e.ds, "Patient/pat-2", "Observation")
	pat2 := firstOf(t, e.ds, "Patient/pat-2", "Patient")
	patientOnly := e.mintToken(t, "--sub", "app-a", "--org", orgOther, "--purpose", "TREAT", "--patient", own, "--scope", "patient/Patient.read")
	compartment := e.mintToken(t, "--sub", "app-b", "--org", orgOther, "--purpose", "TREAT", "--patient", own, "--scope", "patient/*.rs")
	noScope := e.mintToken(t, "--sub", "app-c", "--org", orgOther, "--purpose", "TREAT")
	labOnly := e.mintToken(t, "--sub", "app-d", "--org", orgOther, "--purpose", "TREAT", "--patient", own, "--scope", "patient/Observation.rs?category=laboratory")
	fhirOnly := e.mintToken(t, "--sub", "app-e", "--org", orgOther, "--purpose", "TREAT", "--scope", "user/*.*")

	cases := []struct {
		name, token, path string
		want              int
		guard             synth.Resource
	}{
		{"patient/Patient.read asks for an Observation", patientOnly, "/fhir/Observation/" + obs1.ID, 403, obs1},
		{"patient/Patient.read searches Observations", patientOnly, "/fhir/Observation?subject=Patient/" + own, 403, obs1},
		{"patient/Patient.read asks for $everything", patientOnly, "/fhir/Patient/" + own + "/$everything", 403, obs1},
		{"no scope at all", noScope, "/fhir/Observation/" + obs1.ID, 403, obs1},
		{"restricted scope read by id", labOnly, "/fhir/Observation/" + obs1.ID, 403, obs1},
		{"restricted scope search without the restriction", labOnly, "/fhir/Observation?subject=Patient/" + own, 403, obs1},
		{"another patient read", compartment, "/fhir/Patient/pat-2", 404, pat2},
		{"another patient's $everything", compartment, "/fhir/Patient/pat-2/$everything", 404, obs2},
		{"another patient's compartment search", compartment, "/fhir/Patient/pat-2/Observation", 404, obs2},
		{"another patient's Observation by id", compartment, "/fhir/Observation/" + obs2.ID, 404, obs2},
		{"FHIR scopes on the admin API", fhirOnly, "/admin/audit?patient=Patient/pat-2", 403, obs2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, c.path, c.token, nil)
			if r.Status != c.want {
				t.Fatalf("status %d, want %d: %s", r.Status, c.want, r.Body)
			}
			if leaks(r.Body, c.guard) {
				t.Fatalf("the answer carries the resource: %s", r.Body)
			}
		})
	}

	t.Run("another patient answers as a missing one", func(t *testing.T) {
		missing := e.do(t, http.MethodGet, "/fhir/Patient/no-such-patient", compartment, nil)
		other := e.do(t, http.MethodGet, "/fhir/Patient/pat-2", compartment, nil)
		if missing.Status != other.Status || strings.Replace(string(missing.Body), "no-such-patient", "pat-2", 1) != string(other.Body) {
			t.Fatalf("missing %d %s vs other patient %d %s", missing.Status, missing.Body, other.Status, other.Body)
		}
		for _, k := range []string{"Content-Type", "Cache-Control", "Vary", "ETag", "Last-Modified", "Content-Encoding"} {
			if missing.Header.Get(k) != other.Header.Get(k) {
				t.Fatalf("header %s: missing %q, other patient %q", k, missing.Header.Get(k), other.Header.Get(k))
			}
		}
	})

	t.Run("a search reaches only the own compartment", func(t *testing.T) {
		r := e.do(t, http.MethodGet, "/fhir/Observation?subject=Patient/pat-2", compartment, nil)
		if r.Status != http.StatusOK || leaks(r.Body, obs2) {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		r = e.do(t, http.MethodGet, "/fhir/Observation?subject=Patient/"+own, compartment, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"`+obs1.ID+`"`) {
			t.Fatalf("own search: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, http.MethodGet, "/fhir/Patient/"+own, compartment, nil); r.Status != http.StatusOK {
			t.Fatalf("own Patient: %d %s", r.Status, r.Body)
		}
	})

	t.Run("a restricted scope searches within its restriction", func(t *testing.T) {
		r := e.do(t, http.MethodGet, "/fhir/Observation?subject=Patient/"+own+"&category=laboratory", labOnly, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

// testAdminRoles: each admin role reaches its own endpoints and no other;
// FHIR scopes reach none.
func testAdminRoles(t *testing.T, e *env) {
	roles := map[string]string{}
	for _, role := range []string{authn.ConsentManagerScope, authn.PolicyAuthorScope, authn.AuditorScope, "user/*.*"} {
		roles[role] = e.mintToken(t, "--sub", "ops-"+strings.ReplaceAll(role, "/", "-"), "--org", "Organization/ops", "--scope", role)
	}
	endpoints := map[string]string{
		"/admin/Consent?patient=" + sudPatient: authn.ConsentManagerScope,
		"/admin/policy":                        authn.PolicyAuthorScope,
		"/admin/audit?patient=" + sudPatient:   authn.AuditorScope,
	}
	for path, owner := range endpoints {
		for role, tok := range roles {
			r := e.do(t, http.MethodGet, path, tok, nil)
			want := http.StatusForbidden
			if role == owner {
				want = http.StatusOK
			}
			if r.Status != want {
				t.Errorf("%s with %s: %d, want %d: %s", path, role, r.Status, want, r.Body)
			}
			if want == http.StatusForbidden && (strings.Contains(string(r.Body), sudPatient) || !strings.Contains(string(r.Body), `"code":"forbidden"`)) {
				t.Errorf("%s with %s: the refusal is not a plain forbidden outcome: %s", path, role, r.Body)
			}
		}
	}
	// Writing a consent needs the consent manager too.
	for role, tok := range roles {
		if role == authn.ConsentManagerScope {
			continue
		}
		r := e.do(t, http.MethodPost, "/admin/Consent", tok, strings.NewReader(`{"resourceType":"Consent"}`), "Content-Type", "application/fhir+json")
		if r.Status != http.StatusForbidden {
			t.Errorf("POST /admin/Consent with %s: %d", role, r.Status)
		}
	}
}

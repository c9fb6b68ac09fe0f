package console

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// sideVerifier is fakeVerifier whose subjects say what kind of user the
// token is for: "pat-..." a patient user (fhirUser Patient/...),
// "launch-..." a token with a patient launch context and no clinician
// fhirUser, "clin-..." a clinician launched in a patient's context (not
// patient-side). patientSide, when set, makes every token a patient
// user's from then on.
type sideVerifier struct {
	mu          sync.Mutex
	patientSide bool
}

func (v *sideVerifier) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	c, err := fakeVerifier{}.Verify(ctx, raw)
	if err != nil {
		return c, err
	}
	v.mu.Lock()
	all := v.patientSide
	v.mu.Unlock()
	switch {
	case all || strings.HasPrefix(c.Subject, "pat-"):
		c.FHIRUser, c.PatientUser = "Patient/p", true
	case strings.HasPrefix(c.Subject, "launch-"):
		c.Patient = "Patient/p"
	case strings.HasPrefix(c.Subject, "clin-"):
		c.Patient, c.FHIRUser = "Patient/p", "Practitioner/dr"
	}
	return c, nil
}

// A patient's token is refused by the console whatever admin scopes it
// carries, as the proxy's /admin routes refuse it (refusePatientSide):
// the break-the-glass queue, reviews, verification and charts read the
// ledger in the console, not through /admin, so a patient app given
// ds4p/auditor by a lax identity provider read every patient's emergency
// disclosures there (QA round 25). A clinician launched in a patient's
// context still signs in.
func TestPatientTokenRefusedByConsole(t *testing.T) {
	t.Parallel()
	v := &sideVerifier{}
	f := newFixture(t, func(c *Config) { c.Verifier = v })
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := f.ledger.Append(t.Context(), entry("Patient/other", t0, []string{"ETREAT"}, true)); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"pat-1|ds4p/auditor", "launch-1|ds4p/auditor ds4p/policy-author ds4p/consent-manager"} {
		rec := f.do("POST", "/console/api/login", `{"token":"`+tok+`"}`, map[string]string{"Content-Type": "application/json"})
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "patient") {
			t.Errorf("%s: sign-in answered %d %s, want 403 naming the patient's token", tok, rec.Code, rec.Body)
		}
		if len(rec.Result().Cookies()) != 0 || strings.Contains(rec.Body.String(), "csrf") {
			t.Errorf("%s: a refused sign-in set a cookie or gave a CSRF token: %v %s", tok, rec.Result().Cookies(), rec.Body)
		}
	}
	if n := f.h.sessions.len(); n != 0 {
		t.Fatalf("%d sessions after the patients' sign-ins", n)
	}

	// A clinician in a patient's context (SMART EHR launch) is not the
	// patient: it signs in and reads the queue.
	b := f.login(t, "clin-1|ds4p/auditor")
	if rec := f.call(b, "audit/breakglass", `{}`); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Patient/other") {
		t.Fatalf("clinician's queue: %d %s", rec.Code, rec.Body)
	}
	// Should the same token verify as a patient's later, the session ends
	// at its next call, before the ledger is read.
	v.mu.Lock()
	v.patientSide = true
	v.mu.Unlock()
	for path, body := range localCalls {
		rec := f.call(b, path, body)
		if rec.Code == 200 || strings.Contains(rec.Body.String(), "Patient/other") {
			t.Errorf("%s as a patient: %d %s", path, rec.Code, rec.Body)
		}
	}
	if n := f.h.sessions.len(); n != 0 {
		t.Fatalf("the session outlived its token turning out a patient's: %d sessions", n)
	}
}

// urlVerifier is fakeVerifier for a clinician launched in Patient/p's
// context whose fhirUser is the absolute URL the subject names after "@"
// ("dr@https://ds4p.example/fhir/Practitioner/dr"), as authn reads it.
type urlVerifier struct{}

func (urlVerifier) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	sub, rest, _ := strings.Cut(raw, "@")
	fu, scopes, _ := strings.Cut(rest, "|")
	c, err := fakeVerifier{}.Verify(ctx, sub+"|"+scopes)
	if err != nil {
		return c, err
	}
	c.Patient, c.FHIRUser = "p", authn.FHIRUserRef(fu)
	if strings.Contains(fu, "://") {
		c.FHIRUserURL = fu
	} else if fu != "" {
		c.FHIRUser = fu
	}
	return c, nil
}

// A clinician's fhirUser given as an absolute URL counts as the proxy's
// edge counts it (Config.PatientSide, proxy.Server.PatientSide, tested
// there against the upstream's bases and aliases): a Practitioner of
// another server launched in a patient's context is the patient's token
// to the edge, refused on /admin, and was let into the console, whose
// queue, reviews, verification and charts read every patient's entries
// (QA round 25). Without the edge's judgement no absolute fhirUser counts.
func TestForeignFHIRUserInPatientContextRefused(t *testing.T) {
	t.Parallel()
	// As the edge would judge for a server whose only base is
	// https://ds4p.example/fhir: the console must ask it, with the
	// absolute fhirUser as the token gave it.
	edge := func(c authn.Caller) bool {
		if c.FHIRUserURL != "" && c.FHIRUserURL != "https://ds4p.example/fhir/"+c.FHIRUser {
			c.FHIRUser = ""
		}
		return c.PatientSide()
	}
	cases := []struct {
		edge     func(authn.Caller) bool
		fhirUser string
		ok       bool
	}{
		{edge, "https://other.example/fhir/Practitioner/dr", false},
		{edge, "https://ds4p.example/fhir/Practitioner/dr", true},
		{edge, "Practitioner/dr", true},
		{nil, "https://ds4p.example/fhir/Practitioner/dr", false}, // no edge: not counted
		{nil, "Practitioner/dr", true},
	}
	for _, c := range cases {
		f := newFixture(t, func(cfg *Config) {
			cfg.Verifier, cfg.PatientSide, cfg.PublicOrigin = urlVerifier{}, c.edge, "https://ds4p.example/fhir"
		})
		rec := f.do("POST", "/console/api/login", `{"token":"dr@`+c.fhirUser+`|ds4p/auditor"}`, map[string]string{"Content-Type": "application/json"})
		if got := rec.Code == http.StatusOK; got != c.ok {
			t.Errorf("edge %v, fhirUser %s: sign-in %d %s, want signed in %v", c.edge != nil, c.fhirUser, rec.Code, rec.Body, c.ok)
		}
	}
}

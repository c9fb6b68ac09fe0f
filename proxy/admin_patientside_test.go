package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// patientAllRolesAuth is a patient app's token that an identity provider
// let ask for every admin role.
type patientAllRolesAuth struct{ launched bool }

func (a patientAllRolesAuth) Verify(context.Context, string) (authn.Caller, error) {
	c := authn.Caller{Subject: "jane@portal", Client: "portal-app", Patient: "p1", FHIRUser: "Patient/p1", PatientUser: true,
		Scopes: []string{"patient/*.rs", authn.AuditorScope, authn.ConsentManagerScope, authn.PolicyAuthorScope}}
	if a.launched { // a clinician launched in the patient's context is no patient
		c.FHIRUser, c.PatientUser, c.Subject = "Practitioner/dr", false, "dr"
	}
	return c, nil
}

// TestAdminRefusesPatientTokens: a patient's token is refused on every
// admin route whatever its scopes, not only on the ledger's (QA round 19:
// /admin/alerts listed other callers' alerts, /admin/Consent wrote and read
// any patient's consents, /admin/decide read any patient's consents); a
// clinician launched in a patient's context is not refused for it.
func TestAdminRefusesPatientTokens(t *testing.T) {
	t.Parallel()
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/admin/alerts", ""},
		{http.MethodGet, "/admin/Consent?patient=Patient/p2", ""},
		{http.MethodPost, "/admin/Consent", `{"resourceType":"Consent"}`},
		{http.MethodGet, "/admin/policy", ""},
		{http.MethodPost, "/admin/decide", `{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},"patient":"Patient/p2","resources":[]}`},
		{http.MethodGet, "/admin/audit?patient=Patient/p2", ""},
	}
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Auth = patientAllRolesAuth{} })
	for _, r := range routes {
		resp, body := h.send(r.method, r.path, "any", "application/json", r.body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "a patient's token cannot use the administration API") {
			t.Errorf("patient token: %s %s = %d %s, want 403", r.method, r.path, resp.StatusCode, body)
		}
	}
	clin := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Auth = patientAllRolesAuth{launched: true} })
	for _, r := range routes {
		if r.method != http.MethodGet {
			continue
		}
		if resp, body := clin.get(r.path, "any"); resp.StatusCode != http.StatusOK {
			t.Errorf("clinician in a patient's context: %s = %d %s, want 200", r.path, resp.StatusCode, body)
		}
	}
}

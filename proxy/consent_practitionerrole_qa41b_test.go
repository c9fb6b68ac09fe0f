package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/proxy/authn"
)

// roleAuth authenticates every token as a clinician of org-a treating
// p1, whose SMART fhirUser is the token itself and whose subject is the
// identity provider's opaque id.
type roleAuth struct{}

func (roleAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	return authn.Caller{Subject: "5f0c9a52-opaque", Org: "Organization/org-a", FHIRUser: raw,
		Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}}, nil
}

// TestConsentDenyOfPractitionerReachesTheirRoleQA41B: p1 permits org-a
// for treatment except Practitioner/dr-x. A token whose fhirUser is
// PractitionerRole/dr-x-at-a (SMART allows a PractitionerRole as the
// user, and this role is dr-x's) read the Part 2 condition (200): callers
// are matched by org, subject, fhirUser and org identifiers, and no name
// of this caller is Practitioner/dr-x. Which practitioner a role is the
// policy cannot tell, so such a deny reaches every caller signed in as a
// role unless a designation lists the practitioner's roles, as a deny of a
// Group does (QA round 41, area B).
func TestConsentDenyOfPractitionerReachesTheirRoleQA41B(t *testing.T) {
	t.Parallel()
	c := consentFor("Patient/p1")
	c.JSON = []byte(strings.Replace(string(c.JSON), `"code":"TREAT"}]`, `"code":"TREAT"}],
	"provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Practitioner/dr-x"}}]}]`, 1))
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/R4/Condition/sud1":
			fhirJSONHandler(http.StatusOK, sudCondition)(w, r)
		case "/fhir/R4/PractitionerRole/dr-x-at-a":
			fhirJSONHandler(http.StatusOK, `{"resourceType":"PractitionerRole","id":"dr-x-at-a","practitioner":{"reference":"Practitioner/dr-x"},"organization":{"reference":"Organization/org-a"}}`)(w, r)
		default:
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}, func(_ *Options, d *Deps) {
		d.Auth = roleAuth{}
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {c}}}
	})
	for _, tt := range []struct {
		fhirUser string
		want     int
	}{
		{"Practitioner/dr-y", http.StatusOK},                // another clinician of org-a
		{"Practitioner/dr-x", http.StatusNotFound},          // dr-x by name
		{"PractitionerRole/dr-x-at-a", http.StatusNotFound}, // the defect: dr-x in a role
	} {
		if resp, _ := h.get("/fhir/Condition/sud1", tt.fhirUser); resp.StatusCode != tt.want {
			t.Errorf("fhirUser %s: %d, want %d", tt.fhirUser, resp.StatusCode, tt.want)
		}
	}
}

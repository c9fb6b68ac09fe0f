package proxy

import (
	"net/http"
	"net/url"
	"testing"
)

// TestPatientSearchByModifierLikeTypeQA43G (QA round 43, helper G): a
// reference parameter's modifier counted as a resource type when it began
// with a capital letter, so Patient?organization:Organization:identifier=
// <the program department's identifier> (and :PractitionerRole:identifier
// on general-practitioner, :Organization:missing) passed both enrolment
// guards (200): the value was read as a reference to a type named
// "Organization:identifier", never searched for by identifier, and the
// modifier was not one the guards refuse. A server reading the modifier
// after its last colon lists the program's patients. Only a type name
// (letters) is a type modifier now; anything else is refused as :missing is.
func TestPatientSearchByModifierLikeTypeQA43G(t *testing.T) {
	t.Parallel()
	u := &qa43dUpstream{}
	h := newHarness(t, u.handler, withProgram)
	for _, q := range []string{
		"organization:Organization:identifier=" + url.QueryEscape(qa43dDeptSys+"|"+qa43dDeptVal),
		"general-practitioner:PractitionerRole:identifier=" + url.QueryEscape(qa43dRoleSys+"|"+qa43dRoleVal),
		"organization:Organization:missing=false",
	} {
		if resp, body := h.get("/fhir/Patient?"+q, tokOther); resp.StatusCode != http.StatusForbidden {
			t.Errorf("Patient?%s: %d %s, want 403", q, resp.StatusCode, body)
		}
	}
	// A type modifier still names that type's entry.
	if resp, body := h.get("/fhir/Patient?organization:Organization=u1", tokOther); resp.StatusCode != http.StatusForbidden {
		t.Errorf("organization:Organization=u1: %d %s, want 403", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Patient?organization:Organization=h1", tokOther); resp.StatusCode != http.StatusOK {
		t.Errorf("organization:Organization=h1 (ordinary): %d %s, want 200", resp.StatusCode, body)
	}
}

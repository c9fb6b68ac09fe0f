package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestConsentDenyOfPractitionerByNPIOtherNameQA41F: the NPI has two
// names, its URL and its OID (the policy matches a caller's NPI under
// either). p1's consent denies Dr X by the OID's name while Dr X's
// Practitioner carries the NPI under its URL, as US Core writes it (and
// the reverse). The upstream matches systems exactly, as a FHIR server
// does, and the resolver compared them exactly: neither search nor match
// found Dr X, and Dr X (fhirUser Practitioner/dr-x) read the Part 2
// condition (200) where the deny written with the URL withholds it (QA
// round 41, helper F, on cc4362a).
func TestConsentDenyOfPractitionerByNPIOtherNameQA41F(t *testing.T) {
	t.Parallel()
	const (
		npiURL = "http://hl7.org/fhir/sid/us-npi"
		npiOID = "urn:oid:2.16.840.1.113883.4.6"
	)
	setup := func(consent, stored string) *harness {
		f := &fakeFHIR{}
		f.set(200, consent)
		drX := `{"resourceType":"Practitioner","id":"dr-x","identifier":[{"system":"` + stored + `","value":"1316999999"}]}`
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/fhir/R4/Practitioner/dr-x":
				fhirJSONHandler(http.StatusOK, drX)(w, r)
				return
			case r.URL.Path == "/fhir/R4/Practitioner" && r.URL.Query().Get("identifier") == stored+"|1316999999":
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":`+drX+`,"search":{"mode":"match"}}]}`)(w, r)
				return
			case r.URL.Path == "/fhir/R4/Practitioner" || r.URL.Path == "/fhir/R4/PractitionerRole" || r.URL.Path == "/fhir/R4/Organization":
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
				return
			}
			f.handler(w, r)
		}))
		return resolvingHarness(t, npiAuth{}, upstream)
	}
	deny := func(system string) string {
		return `,"provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"identifier":{"system":"` + system + `","value":"1316999999"}}}]}]`
	}
	for _, tt := range []struct{ denied, stored string }{
		{npiURL, npiURL}, // as before
		{npiOID, npiURL}, // the defect
		{npiURL, npiOID}, // the reverse
		{npiOID, npiOID},
	} {
		h := setup(upstreamConsentWith("u1", deny(tt.denied)), tt.stored)
		if resp, _ := h.get("/fhir/Condition/sud1", "any"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("deny of %s|1316999999, Practitioner carrying %s|1316999999: Dr X read the Part 2 condition: %d, want 404", tt.denied, tt.stored, resp.StatusCode)
		}
	}
}

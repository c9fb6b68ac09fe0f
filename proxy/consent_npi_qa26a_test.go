package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestConsentActorNPISpellings: a consent that names a recipient by its
// NPI matches a caller whose token carries the NPI under the other
// spelling of its system (http://hl7.org/fhir/sid/us-npi and its OID
// urn:oid:2.16.840.1.113883.4.6 name one identifier system). Compared
// as written, a deny naming the organisation's NPI by OID withheld
// nothing from a token carrying it by URL (QA round 26, area A).
func TestConsentActorNPISpellings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	// An opt-in (root permit) with a deny of one organisation, named by NPI.
	consentWith := func(system string) string {
		return `{"resourceType":"Consent","id":"c-npi","status":"active","patient":{"reference":"Patient/p1"},
		 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
		 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
		 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
		 "provision":{"provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
		   "reference":{"identifier":{"system":"` + system + `","value":"1234567893"}}}]}]}}`
	}
	const url, oid = "http://hl7.org/fhir/sid/us-npi", "urn:oid:2.16.840.1.113883.4.6"
	htn := `{"resourceType":"Condition","id":"htn1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]}}`
	for _, tt := range []struct{ consentSystem, tokenSystem string }{
		{url, url}, {oid, oid}, // as written: already matched
		{oid, url}, {url, oid},
		// Other spellings an EHR writes (QA round 27, lead): the scheme,
		// case, a trailing slash, white space, the OID's URN in capitals.
		{"https://hl7.org/fhir/sid/us-npi", url}, {"http://hl7.org/fhir/sid/us-npi/", oid},
		{"HTTP://HL7.ORG/FHIR/SID/US-NPI", url}, {" http://www.hl7.org/fhir/sid/us-npi ", oid},
		{"URN:OID:2.16.840.1.113883.4.6", url}, {"urn:oid:2.16.840.1.113883.4.6 ", oid},
	} {
		body := `{"caller":{"subject":"sim","org":"Organization/x","org_identifiers":["` + tt.tokenSystem + `|1234567893"],"purposes":["TREAT"]},` +
			`"time":"2026-03-01T00:00:00Z","resources":[` + htn + `],"consents":[` + consentWith(tt.consentSystem) + `]}`
		resp, out := h.post("/admin/decide", tokAdmin, body)
		if resp.StatusCode != 200 {
			t.Fatalf("%+v: %d %s", tt, resp.StatusCode, out)
		}
		var got DecideResponse
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 1 || got.Items[0].Decision.Effect != "deny" {
			t.Errorf("consent names the NPI under %q, the token under %q: %s, want deny", tt.consentSystem, tt.tokenSystem,
				strings.Join([]string{got.Items[0].Decision.Effect}, ""))
		}
	}
}

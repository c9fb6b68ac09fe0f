package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// TestOptOutWithExceptionsGovernsOrdinaryDataQA41B: p1's general consent
// under policyRule OPTOUTE (v3 ActConsentDirective "opt-out with
// exceptions": denies access to the subject's information but allows
// certain exceptions), here "no one but org-a", withheld nothing ordinary:
// org-b read p1's hypertension (200), since only OPTIN and OPTOUT made a
// consent govern ordinary records (config.consents.general_policies), and
// the root read as a denial spoke for restricted data only. OPTOUT
// withheld it (QA round 41, area B).
func TestOptOutWithExceptionsGovernsOrdinaryDataQA41B(t *testing.T) {
	t.Parallel()
	optOut := func(code string) consent.Record {
		raw := `{"resourceType":"Consent","id":"g1","meta":{"versionId":"1"},"status":"active",
		"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
		"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
		"patient":{"reference":"Patient/p1"},
		"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"CODE"}]},
		"provision":{"provision":[{"type":"permit",
		"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
		"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}}`
		return consent.Record{ID: "g1", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(),
			JSON: []byte(strings.Replace(raw, "CODE", code, 1))}
	}
	const htn = `{"resourceType":"Condition","id":"htn1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]}}`
	for _, code := range []string{"OPTOUT", "OPTOUTE"} {
		h := newHarness(t, fhirJSONHandler(http.StatusOK, htn), func(_ *Options, d *Deps) {
			d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {optOut(code)}}}
		})
		if resp, _ := h.get("/fhir/Condition/htn1", tokOther); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: org-b read p1's ordinary record: %d, want 404", code, resp.StatusCode)
		}
		if resp, _ := h.get("/fhir/Condition/htn1", tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: org-a, the exception, read p1's ordinary record: %d, want 200", code, resp.StatusCode)
		}
	}
}

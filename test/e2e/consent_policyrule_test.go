package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

func init() {
	register("UpstreamConsentUnknownPolicy", testUpstreamConsentUnknownPolicy)
}

// testUpstreamConsentUnknownPolicy: a general consent kept in Medplum whose
// policyRule is a misspelt OPTOUT ("OPTOUTT") withholds the patient's
// ordinary records, as the opt-out it was meant to be does. Read as
// written it was no general consent, and the records flowed.
func testUpstreamConsentUnknownPolicy(t *testing.T, e *env) {
	const patient = "Patient/qa24-optout"
	const consentID = "qa24-optout-consent"
	e.upstream.Put(t, []byte(`{"resourceType":"Patient","id":"qa24-optout","name":[{"family":"Optout"}]}`))
	e.upstream.Put(t, []byte(`{"resourceType":"Condition","id":"qa24-htn","subject":{"reference":"`+patient+`"},
	  "code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003","display":"Hypertension"}]}}`))
	general := func(code string) []byte {
		return []byte(`{"resourceType":"Consent","id":"` + consentID + `","status":"active",
		  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
		  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
		  "patient":{"reference":"` + patient + `"},
		  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + code + `"}]}}`)
	}
	cs := startConsentServer(t, e)
	out, err := exec.Command(e.bin, "token", "--data", cs.data, "--sub", "dr-qa24", "--org", "Organization/org-qa24-clinic",
		"--purpose", "TREAT", "--scope", "user/*.read").Output()
	if err != nil {
		t.Fatalf("ds4p token: %v", err)
	}
	caller := strings.TrimSpace(string(out))
	t.Cleanup(func() { deleteUpstream(t, e, "Consent/"+consentID) })
	for _, st := range []struct {
		name, code string
		want       int
	}{
		{"an opt-in", "OPTIN", http.StatusOK},
		{"an opt-out", "OPTOUT", http.StatusNotFound},
		{"a misspelt opt-out", "OPTOUTT", http.StatusNotFound},
		{"an opt-in again", "OPTIN", http.StatusOK},
	} {
		e.upstream.Put(t, general(st.code))
		if r := e.do(t, http.MethodGet, cs.base+"/fhir/Condition/qa24-htn", caller, nil); r.Status != st.want {
			t.Errorf("%s: the ordinary condition %d, want %d: %s", st.name, r.Status, st.want, r.Body)
		}
	}
}

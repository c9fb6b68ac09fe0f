package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 33, area G, on 74d76ea: ICD-9-CM keyed without its dot makes a
// procedure code (Volume 3, NN.NN, written under the same system by many
// feeds) and a diagnosis code (NNN.N) one key: 30.39 and 303.9 are both
// 3039. A patient's permit for org-a limited to the procedure 30.39 now
// reached the Condition coded 303.9 (alcohol dependence), which org-a
// read (200); as written the two codes never met (404).
func TestConsentCodeKeyICD9ProcedureQA33G(t *testing.T) {
	t.Parallel()
	const cond = `{"resourceType":"Condition","id":"alc1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-9-cm","code":"303.9"}]}}`
	for _, code := range []string{"30.39", "303.8"} {
		store := openConsentStore(t)
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "/fhir/R4/Condition/alc1": cond}),
			func(_ *Options, d *Deps) { d.Consents = store })
		a := &consentAPI{harness: h, store: store}
		only := `"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-9-cm","code":"` + code + `"}]}]`
		body := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
		body = strings.Replace(body, `"code":"TREAT"}]}]}}`, `"code":"TREAT"}],`+only+`}]}}`, 1)
		if c, _, out := a.call(http.MethodPost, "/admin/Consent", body); c != http.StatusCreated {
			t.Fatalf("storing the consent: %d %s", c, out)
		}
		resp, out := a.get("/fhir/Condition/alc1", tokConsented)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("a permit only for ICD-9-CM %s: org-a read the 303.9 Condition: %d %s", code, resp.StatusCode, out)
		}
	}
	// A patient's exception written without the dot still reaches 303.9.
	for _, code := range []string{"3039", "303.9"} {
		store := openConsentStore(t)
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "/fhir/R4/Condition/alc1": cond}),
			func(_ *Options, d *Deps) { d.Consents = store })
		a := &consentAPI{harness: h, store: store}
		exception := `"provision":[{"type":"deny","code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-9-cm","code":"` + code + `"}]}]}]`
		body := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
		body = strings.Replace(body, `"code":"TREAT"}]}]}}`, `"code":"TREAT"}],`+exception+`}]}}`, 1)
		if c, _, out := a.call(http.MethodPost, "/admin/Consent", body); c != http.StatusCreated {
			t.Fatalf("storing the consent: %d %s", c, out)
		}
		if resp, out := a.get("/fhir/Condition/alc1", tokConsented); resp.StatusCode != http.StatusNotFound {
			t.Errorf("an exception for ICD-9-CM %s: org-a read the 303.9 Condition: %d %s", code, resp.StatusCode, out)
		}
	}
}

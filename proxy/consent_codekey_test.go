package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsentCodeInAnotherSpelling: a consent's provision codes were
// compared with an item's codings as written, only the system made
// canonical, so a patient's exception written in another spelling of the
// item's code was not honoured: org-a's permit except ICD-10-CM f11.20
// (or F1120) still served the F11.20 Condition (QA round 33, area C's
// finding). Both sides now also carry the code as the labeller keys it.
// A code that differs stays apart: the exception for F11.21 does not
// reach F11.20.
func TestConsentCodeInAnotherSpelling(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		system, code string
		want         int
	}{
		{"http://hl7.org/fhir/sid/icd-10-cm", "F11.20", http.StatusNotFound},
		{"http://hl7.org/fhir/sid/icd-10-cm", "f11.20", http.StatusNotFound},
		{"http://hl7.org/fhir/sid/icd-10-cm", "F1120", http.StatusNotFound},
		{"urn:oid:2.16.840.1.113883.6.90", " f11.20", http.StatusNotFound},
		{"http://hl7.org/fhir/sid/icd-10-cm", "F11.21", http.StatusOK},
	} {
		t.Run(tt.system+"|"+tt.code, func(t *testing.T) {
			t.Parallel()
			a := newConsentAPI(t, http.StatusOK)
			exception := `"provision":[{"type":"deny","code":[{"coding":[{"system":"` + tt.system + `","code":"` + tt.code + `"}]}]}]`
			body := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
			body = strings.Replace(body, `"code":"TREAT"}]}]}}`, `"code":"TREAT"}],`+exception+`}]}}`, 1)
			if code, _, out := a.call(http.MethodPost, "/admin/Consent", body); code != http.StatusCreated {
				t.Fatalf("storing the consent: %d %s", code, out)
			}
			resp, out := a.get("/fhir/Condition/sud1", tokConsented)
			if resp.StatusCode != tt.want {
				t.Errorf("org-a read the F11.20 Condition: %d %s, want %d", resp.StatusCode, out, tt.want)
			}
		})
	}
}

package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

func init() {
	register("PatientIdentity", testPatientIdentity)
}

// The patient of this scenario is known to ds4p only through an identifier
// of mrnSystem: its consent, its records and a patient app's token name it
// by MRN, or by an absolute URL.
const (
	mrnSystem  = "urn:ds4p:e2e:mrn"
	mrnValue   = "MRN-4711"
	mrnPatient = "e2e-mrn-patient"
	mrnOrg     = "Organization/org-mrn"
)

// mrnResources are written to the FHIR server directly: the patient with
// its MRN, an SUD Condition naming it by MRN only, one by an absolute URL of
// the server's public base (an upstream alias), one by another server's
// absolute URL, and an ordinary Observation naming by MRN a patient nobody
// has.
func mrnResources() map[string]string {
	sud := func(id, subject string) string {
		return `{"resourceType":"Condition","id":"` + id + `","subject":` + subject + `,
		  "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	}
	return map[string]string{
		"Patient/" + mrnPatient: `{"resourceType":"Patient","id":"` + mrnPatient + `","identifier":[{"system":"` + mrnSystem + `","value":"` + mrnValue + `"}]}`,
		"Condition/e2e-by-mrn":  sud("e2e-by-mrn", `{"identifier":{"system":"`+mrnSystem+`","value":"`+mrnValue+`"}}`),
		"Condition/e2e-by-url":  sud("e2e-by-url", `{"reference":"https://fhir.elsewhere.example/r4/Patient/`+mrnPatient+`"}`),
		// Another server's Patient of the same id is another person.
		"Condition/e2e-by-foreign-url": sud("e2e-by-foreign-url", `{"reference":"https://fhir.foreign.example/r4/Patient/`+mrnPatient+`"}`),
		"Observation/e2e-nobody": `{"resourceType":"Observation","id":"e2e-nobody","status":"final","code":{"text":"weight"},
		  "subject":{"identifier":{"system":"` + mrnSystem + `","value":"MRN-NOBODY"}},"valueQuantity":{"value":60.40,"unit":"kg"}}`,
	}
}

// testPatientIdentity runs a proxy with consents.patient_identifier_system
// against Medplum. A consent stored by MRN permits mrnOrg; the records
// naming the patient by MRN or absolute URL are then disclosed to mrnOrg
// and withheld from another org; a record naming an unknown MRN is
// withheld; a patient app's token carrying the MRN reaches that patient's
// records and nobody else's; a token with an unknown MRN is refused.
func testPatientIdentity(t *testing.T, e *env) {
	res := mrnResources()
	var all [][]byte
	for ref, body := range res {
		all = append(all, []byte(body))
		t.Cleanup(func() { deleteUpstream(t, e, ref) })
	}
	e.upstream.Put(t, all...)
	// fhir.elsewhere.example/r4 is the FHIR server's public base, which
	// its records use in absolute references: an upstream alias.
	cs := startConsentServer(t, e, "DS4P_CONSENTS_PATIENT_IDENTIFIER_SYSTEM="+mrnSystem,
		"DS4P_UPSTREAM_ALIASES=https://fhir.elsewhere.example/r4")
	tok := func(args ...string) string {
		out, err := exec.Command(e.bin, append([]string{"token", "--data", cs.data}, args...)...).Output()
		if err != nil {
			t.Fatalf("ds4p token: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	admin := tok("--sub", "cm", "--org", "Organization/ops", "--scope", "ds4p/consent-manager")
	consent := strings.Replace(regrantBody("active"), `"id":"`+regrantConsent+`",`, "", 1)
	consent = strings.Replace(consent, `"reference":{"reference":"`+regrantOrg+`"}`, `"reference":{"reference":"`+mrnOrg+`"}`, 1)
	consent = strings.Replace(consent, `"patient":{"reference":"`+regrantPatient+`"}`, `"patient":{"identifier":{"system":"`+mrnSystem+`","value":"`+mrnValue+`"}}`, 1)
	r := e.do(t, http.MethodPost, cs.base+"/admin/Consent", admin, strings.NewReader(consent), "Content-Type", "application/fhir+json")
	if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"Patient/`+mrnPatient+`"`) {
		t.Fatalf("storing the consent by MRN: %d %s", r.Status, r.Body)
	}
	clinic := tok("--sub", "dr-mrn", "--org", mrnOrg, "--purpose", "TREAT", "--scope", "user/*.read")
	other := tok("--sub", "dr-other", "--org", orgOther, "--purpose", "TREAT", "--scope", "user/*.read")
	app := tok("--sub", "app", "--org", mrnOrg, "--purpose", "TREAT", "--scope", "patient/*.read", "--patient", mrnSystem+"|"+mrnValue)
	nobody := tok("--sub", "app2", "--org", mrnOrg, "--purpose", "TREAT", "--scope", "patient/*.read", "--patient", mrnSystem+"|MRN-NOBODY")
	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"by MRN, consented org", "Condition/e2e-by-mrn", clinic, http.StatusOK},
		{"by MRN, other org", "Condition/e2e-by-mrn", other, http.StatusNotFound},
		{"by absolute URL, consented org", "Condition/e2e-by-url", clinic, http.StatusOK},
		{"by absolute URL, other org", "Condition/e2e-by-url", other, http.StatusNotFound},
		// QA round 19: it was decided under this server's patient's consent
		{"by another server's absolute URL, consented org", "Condition/e2e-by-foreign-url", clinic, http.StatusNotFound},
		{"unknown MRN", "Observation/e2e-nobody", clinic, http.StatusNotFound},
		{"patient app, own record by MRN", "Condition/e2e-by-mrn", app, http.StatusOK},
		{"patient app, own Patient", "Patient/" + mrnPatient, app, http.StatusOK},
		{"patient app, another patient's record", regrantRecord, app, http.StatusNotFound},
		{"patient app, another Patient", "Patient/pat-1", app, http.StatusNotFound},
		{"patient app with an unknown MRN", "Patient/" + mrnPatient, nobody, http.StatusUnauthorized},
	} {
		r := e.do(t, http.MethodGet, cs.base+"/fhir/"+tt.path, tt.token, nil)
		if r.Status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, r.Status, r.Body, tt.want)
		}
		if tt.want != http.StatusOK && (strings.Contains(string(r.Body), "F11.20") || strings.Contains(string(r.Body), "60.40")) {
			t.Errorf("%s: withheld data in the answer: %s", tt.name, r.Body)
		}
	}
}

package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func init() {
	register("PatientReadsOwnRecord", testPatientReadsOwnRecord)
}

// testPatientReadsOwnRecord: a patient app's token whose fhirUser is
// regrantPatient (the patient signed in) and whose purpose is PATRQT reads
// the patient's own Part 2 Condition from Medplum, which the patient's
// consents release to no one else (HIPAA 45 CFR 164.524, 42 CFR 2.23).
// The same app without the fhirUser, or for another user in the same
// patient context, gets 404; the ledger records the disclosure to the
// patient like any other.
func testPatientReadsOwnRecord(t *testing.T, e *env) {
	id := strings.TrimPrefix(regrantPatient, "Patient/")
	patientApp := func(args ...string) string {
		return e.mintToken(t, append([]string{"--scope", "patient/*.rs", "--patient", id, "--client", "portal"}, args...)...)
	}
	self := patientApp("--sub", "pt-self", "--fhir-user", regrantPatient, "--purpose", "PATRQT")
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"the patient", self, http.StatusOK},
		{"the same app without fhirUser", patientApp("--sub", "pt-anon", "--purpose", "PATRQT"), http.StatusNotFound},
		{"a relative in the patient's context", patientApp("--sub", "pt-rel", "--fhir-user", "RelatedPerson/rp-7", "--purpose", "PATRQT"), http.StatusNotFound},
		{"the patient stating no purpose", patientApp("--sub", "pt-nopurpose", "--fhir-user", regrantPatient), http.StatusNotFound},
	} {
		r := e.do(t, http.MethodGet, "/fhir/"+regrantRecord, c.token, nil)
		if r.Status != c.want {
			t.Errorf("%s: read %s: %d, want %d\n%s", c.name, regrantRecord, r.Status, c.want, r.Body)
		}
		if r.Status == http.StatusOK && !strings.Contains(string(r.Body), `"42CFRPart2"`) {
			t.Errorf("%s: the record reached the patient without its Part 2 label: %s", c.name, r.Body)
		}
	}
	s := e.do(t, http.MethodGet, "/fhir/Condition?subject="+regrantPatient+"&_count=200", self, nil)
	if s.Status != http.StatusOK || !strings.Contains(string(s.Body), strings.TrimPrefix(regrantRecord, "Condition/")) {
		t.Fatalf("the patient's search of their own conditions: %d, lacks %s", s.Status, regrantRecord)
	}
	a := e.get(t, "/admin/audit?patient="+regrantPatient+"&_count=1000", "admin")
	if a.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", a.Status, a.Body)
	}
	var got struct {
		Entries []struct {
			Caller    struct{ Subject string } `json:"caller"`
			Disclosed []struct{ Type, ID string }
		} `json:"entries"`
	}
	if err := json.Unmarshal(a.Body, &got); err != nil {
		t.Fatalf("%v: %s", err, a.Body)
	}
	recorded := false
	for _, en := range got.Entries {
		for _, d := range en.Disclosed {
			if en.Caller.Subject == "pt-self" && d.Type+"/"+d.ID == regrantRecord {
				recorded = true
			}
		}
	}
	if !recorded {
		t.Fatalf("the ledger does not record %s disclosed to the patient (%d entries)", regrantRecord, len(got.Entries))
	}
}

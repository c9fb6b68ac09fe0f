package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/servetest"
)

func init() {
	register("DeletedPatientOptOutByMRN", testDeletedPatientOptOutByMRN)
	register("OnDemandIdentifierSearchChecked", testOnDemandIdentifierSearchChecked)
}

// The deleted patient of this scenario, its MRN, an ordinary record of it
// that Medplum keeps serving after the Patient is deleted, and an opt-out
// the EHR wrote naming the patient by that MRN alone.
const (
	delPatient = "e2e-deleted-patient"
	delMRN     = "MRN-DEL-0410"
	delRecord  = "Observation/e2e-deleted-patient-weight"
	delOptOut  = "e2e-deleted-patient-optout"
)

// testDeletedPatientOptOutByMRN runs a proxy with consents.upstream: sync
// and consents.patient_identifier_system against Medplum. The Patient is
// deleted (Medplum answers 410 and keeps its history); its Observation is
// still served; an opt-out naming the patient by MRN alone must still
// withhold it, which needs the MRN from the deleted Patient's last version
// (Patient/<id>/_history, QA rounds 31 and 32). The unit tests hold this
// against fakes shaped after Medplum's answers; this holds it against
// Medplum itself, and again once a new Patient has the MRN (the patient
// registered again). The opt-out is then deleted and the record is served
// again, so the withholding was the opt-out's and not the deletion's.
func testDeletedPatientOptOutByMRN(t *testing.T, e *env) {
	config, err := e.writeLabelConfig()
	if err != nil {
		t.Fatal(err)
	}
	// Each start is a new data directory: its first round is a full one,
	// reading what Medplum holds at that moment.
	start := func() (*servetest.Proc, string) {
		data := t.TempDir()
		cmd := exec.Command(e.bin, "serve", "--config", config, "--upstream", e.upstream.BaseURL,
			"--data", data, "--dev-auth", "--log-level", "warn")
		cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true", "DS4P_CONSENTS_UPSTREAM=sync",
			"DS4P_CONSENTS_SYNC_INTERVAL=1h", "DS4P_CONSENTS_PATIENT_IDENTIFIER_SYSTEM="+mrnSystem)
		stderr, _ := cmd.StderrPipe()
		go drain(stderr)
		p, err := servetest.Start(cmd, 30*time.Second, nil) // ready: a round has succeeded
		if err != nil {
			t.Fatalf("the sync server: %v", err)
		}
		return p, data
	}
	read := func(p *servetest.Proc, data string) response {
		out, err := exec.Command(e.bin, "token", "--data", data, "--sub", "dr-del", "--org", orgOther,
			"--purpose", "TREAT", "--scope", "user/*.read").Output()
		if err != nil {
			t.Fatalf("ds4p token: %v", err)
		}
		return e.do(t, http.MethodGet, p.Base+"/fhir/"+delRecord, strings.TrimSpace(string(out)), nil)
	}

	patient := `{"resourceType":"Patient","id":"` + delPatient + `","identifier":[{"system":"` + mrnSystem + `","value":"` + delMRN + `"}]}`
	record := `{"resourceType":"Observation","id":"` + strings.TrimPrefix(delRecord, "Observation/") + `","status":"final",
	  "code":{"text":"weight"},"subject":{"reference":"Patient/` + delPatient + `"},"valueQuantity":{"value":71.30,"unit":"kg"}}`
	optOut := `{"resourceType":"Consent","id":"` + delOptOut + `","status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	  "patient":{"identifier":{"system":"` + mrnSystem + `","value":"` + delMRN + `"}},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	e.upstream.Put(t, []byte(patient), []byte(record), []byte(optOut))
	optOutDeleted, patientDeleted := false, false
	t.Cleanup(func() {
		deleteUpstream(t, e, delRecord)
		if !optOutDeleted {
			deleteUpstream(t, e, "Consent/"+delOptOut)
		}
		if !patientDeleted {
			deleteUpstream(t, e, "Patient/"+delPatient)
		}
	})

	// The Patient is live: the opt-out is matched to it by MRN.
	p, data := start()
	r := read(p, data)
	p.Stop(5 * time.Second)
	if r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "71.3") {
		t.Fatalf("opted out by MRN, the Patient live: %d %s, want 404 without the record", r.Status, r.Body)
	}

	deleteUpstream(t, e, "Patient/"+delPatient)
	patientDeleted = true
	resp, err := http.Get(e.upstream.BaseURL + "/Patient/" + delPatient)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Fatalf("Medplum answers the deleted Patient %d; this scenario needs 410", resp.StatusCode)
	}
	p, data = start()
	r = read(p, data)
	p.Stop(5 * time.Second)
	if r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "71.3") {
		t.Errorf("opted out by MRN, the Patient deleted: %d %s, want 404 without the record", r.Status, r.Body)
	}

	// The patient registered again: a new Patient with the same MRN, the
	// one Patient?identifier= now finds. The opt-out is matched to it, and
	// its denies still reach the deleted one's records (QA round 32, area C).
	again := `{"resourceType":"Patient","id":"` + delPatient + `-again","identifier":[{"system":"` + mrnSystem + `","value":"` + delMRN + `"}]}`
	e.upstream.Put(t, []byte(again))
	t.Cleanup(func() { deleteUpstream(t, e, "Patient/"+delPatient+"-again") })
	p, data = start()
	r = read(p, data)
	p.Stop(5 * time.Second)
	if r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "71.3") {
		t.Errorf("opted out by MRN, the Patient deleted and registered again: %d %s, want 404 without the record", r.Status, r.Body)
	}

	deleteUpstream(t, e, "Consent/"+delOptOut)
	optOutDeleted = true
	p, data = start()
	defer p.Stop(5 * time.Second)
	if r := read(p, data); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "71.3") {
		t.Errorf("the opt-out deleted, the Patient deleted: %d %s, want 200 with the record", r.Status, r.Body)
	}
}

// testOnDemandIdentifierSearchChecked runs a proxy with consents.upstream:
// on_demand and consents.patient_identifier_system against Medplum's
// in-memory repository, which answers Consent?patient:identifier= with an
// empty searchset whatever it holds (it does not match a reference by
// identifier; older HAPI FHIR does the same). The opt-out naming the live
// patient by MRN was then unread and its record went out (200). ds4p now
// checks the search against a known answer, that opt-out itself, finds
// that it does not find it, withholds the record and says so in /readyz.
func testOnDemandIdentifierSearchChecked(t *testing.T, e *env) {
	const (
		patientID = "e2e-ondemand-mrn-patient"
		mrn       = "MRN-OD-0200"
		recordRef = "Observation/e2e-ondemand-mrn-weight"
		optOutID  = "e2e-ondemand-mrn-optout"
	)
	res := map[string]string{
		"Patient/" + patientID: `{"resourceType":"Patient","id":"` + patientID + `","identifier":[{"system":"` + mrnSystem + `","value":"` + mrn + `"}]}`,
		recordRef: `{"resourceType":"Observation","id":"` + strings.TrimPrefix(recordRef, "Observation/") + `","status":"final",
		  "code":{"text":"weight"},"subject":{"reference":"Patient/` + patientID + `"},"valueQuantity":{"value":64.20,"unit":"kg"}}`,
		"Consent/" + optOutID: `{"resourceType":"Consent","id":"` + optOutID + `","status":"active",
		  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
		  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
		  "patient":{"identifier":{"system":"` + mrnSystem + `","value":"` + mrn + `"}},
		  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`,
	}
	var all [][]byte
	for ref, body := range res {
		all = append(all, []byte(body))
		t.Cleanup(func() { deleteUpstream(t, e, ref) })
	}
	e.upstream.Put(t, all...)
	// What this scenario rests on: Medplum holds the opt-out and its
	// :identifier search does not find it.
	resp, err := http.Get(e.upstream.BaseURL + "/Consent?patient:identifier=" + mrnSystem + "%7C" + mrn)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), optOutID) {
		t.Fatalf("Medplum's :identifier search now finds the consent; this scenario checks a server that does not: %s", body)
	}

	cs := startConsentServer(t, e, "DS4P_CONSENTS_PATIENT_IDENTIFIER_SYSTEM="+mrnSystem)
	out, err := exec.Command(e.bin, "token", "--data", cs.data, "--sub", "dr-od", "--org", orgOther,
		"--purpose", "TREAT", "--scope", "user/*.read").Output()
	if err != nil {
		t.Fatalf("ds4p token: %v", err)
	}
	r := e.do(t, http.MethodGet, cs.base+"/fhir/"+recordRef, strings.TrimSpace(string(out)), nil)
	if r.Status < 500 || strings.Contains(string(r.Body), "64.2") {
		t.Errorf("opted out by MRN, the :identifier search not honoured: %d %s, want the record withheld (5xx)", r.Status, r.Body)
	}
	ready, err := http.Get(cs.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Body.Close()
	var rz struct {
		Checks map[string]struct{ Status, Detail string }
	}
	if err := json.NewDecoder(ready.Body).Decode(&rz); err != nil {
		t.Fatal(err)
	}
	if c := rz.Checks["consent_identifier_search"]; c.Status != "warn" || !strings.Contains(c.Detail, ":identifier") {
		t.Errorf("readyz: %+v, want consent_identifier_search warn naming the modifier", c)
	}
}

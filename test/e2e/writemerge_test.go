package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func init() { register("WritesKeepWhatTheCallerWasNotShown", testWritesKeepWhatWasCut) }

// mergeEOB is a claim with an ordinary, an SUD (not Part 2: a state-law
// topic no TREAT caller gets without consent) and an asthma diagnosis.
const mergeEOB = `{"resourceType":"ExplanationOfBenefit","id":"e2e-eob-merge","status":"active",
  "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">opioid dependence, hypertension, asthma</div>"},
  "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},
  "use":"claim","patient":{"reference":"Patient/pat-1"},"created":"2026-01-10",
  "insurer":{"display":"Payer"},"provider":{"reference":"Organization/general-hospital"},"outcome":"complete",
  "diagnosis":[
    {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},
    {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},
    {"sequence":3,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J45.909"}]}}
  ],
  "insurance":[{"focal":true,"coverage":{"display":"Plan"}}]}`

// testWritesKeepWhatWasCut: a caller that may write, but sees the claim
// without its SUD diagnosis and narrative, updates it (read, change,
// write back) and patches it by the paths it saw. The FHIR server keeps
// the SUD diagnosis and the narrative, stores the caller's changes where
// the caller meant them, and stores none of the labels the reads added.
func testWritesKeepWhatWasCut(t *testing.T, e *env) {
	e.upstream.Put(t, []byte(mergeEOB))
	writer := e.mint(t, "--sub", "dr-mw", "--org", orgOther, "--purpose", "TREAT", "--scope", "user/*.*")
	stored := func() map[string]any {
		t.Helper()
		resp, err := http.Get(e.upstream.BaseURL + "/ExplanationOfBenefit/e2e-eob-merge")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &m) != nil {
			t.Fatalf("stored: %d %s", resp.StatusCode, b)
		}
		return m
	}
	diagnoses := func(m map[string]any) map[string]float64 { // code -> sequence
		out := map[string]float64{}
		ds, _ := m["diagnosis"].([]any)
		for _, d := range ds {
			dm, _ := d.(map[string]any)
			code := jsonString(dm["diagnosisCodeableConcept"])
			for _, c := range []string{"I10", "F11.20", "J45.909"} {
				if strings.Contains(code, `"`+c+`"`) {
					out[c], _ = dm["sequence"].(float64)
				}
			}
		}
		return out
	}

	r := e.do(t, http.MethodGet, "/fhir/ExplanationOfBenefit/e2e-eob-merge", writer, nil)
	if r.Status != http.StatusOK || bytes.Contains(r.Body, []byte("F11.20")) || bytes.Contains(r.Body, []byte("opioid")) || !securityCodes(r.json(t))["REDACTED"] {
		t.Fatalf("the writer's read: %d %s", r.Status, r.Body)
	}
	// Read, change, write back.
	edited := bytes.Replace(r.Body, []byte(`"outcome":"complete"`), []byte(`"outcome":"partial"`), 1)
	if bytes.Equal(edited, r.Body) {
		t.Fatalf("no outcome to change in %s", r.Body)
	}
	u := e.do(t, http.MethodPut, "/fhir/ExplanationOfBenefit/e2e-eob-merge", writer, bytes.NewReader(edited), "Content-Type", "application/fhir+json")
	if u.Status != http.StatusOK || bytes.Contains(u.Body, []byte("F11.20")) {
		t.Fatalf("update: %d %s", u.Status, u.Body)
	}
	m := stored()
	if m["outcome"] != "partial" || len(diagnoses(m)) != 3 || !strings.Contains(jsonString(m["text"]), "opioid dependence") {
		t.Errorf("after the update the server holds %s", jsonString(m))
	}
	if codes := securityCodes(m); codes["REDACTED"] || codes["PROCESSINLINELABEL"] {
		t.Errorf("the read's labels were stored: %v", codes)
	}

	// Patch by the paths it saw: its second diagnosis is the asthma one.
	p := e.do(t, http.MethodPatch, "/fhir/ExplanationOfBenefit/e2e-eob-merge", writer,
		strings.NewReader(`[{"op":"replace","path":"/diagnosis/1/sequence","value":7}]`), "Content-Type", "application/json-patch+json")
	if p.Status != http.StatusOK || bytes.Contains(p.Body, []byte("F11.20")) {
		t.Fatalf("patch: %d %s", p.Status, p.Body)
	}
	if d := diagnoses(stored()); d["J45.909"] != 7 || d["F11.20"] != 2 || d["I10"] != 1 {
		t.Errorf("after the patch the diagnoses are %v, want I10 1, F11.20 2, J45.909 7", d)
	}
	// A stale version: the server refuses the merged update.
	stale := e.do(t, http.MethodPut, "/fhir/ExplanationOfBenefit/e2e-eob-merge", writer, bytes.NewReader(edited),
		"Content-Type", "application/fhir+json", "If-Match", r.Header.Get("ETag"))
	if r.Header.Get("ETag") == "" || stale.Status != http.StatusPreconditionFailed {
		t.Errorf("update over a stale ETag %q: %d %s", r.Header.Get("ETag"), stale.Status, stale.Body)
	}
	// A batch whose checks would read another entry list than the server
	// ("Entry" beside "entry": Go's encoding/json takes either, Medplum
	// the exact name) is refused whole, and the SUD diagnosis stays.
	view := e.do(t, http.MethodGet, "/fhir/ExplanationOfBenefit/e2e-eob-merge", writer, nil)
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + string(view.Body) +
		`,"request":{"method":"PUT","url":"ExplanationOfBenefit/e2e-eob-merge"}}],"Entry":[]}`
	b := e.do(t, http.MethodPost, "/fhir", writer, strings.NewReader(batch), "Content-Type", "application/fhir+json")
	if b.Status != http.StatusBadRequest || !bytes.Contains(b.Body, []byte("differ only in case")) {
		t.Errorf("a batch with entry and Entry: %d %s", b.Status, b.Body)
	}
	if d := diagnoses(stored()); d["F11.20"] != 2 {
		t.Errorf("after the case-folded batch the diagnoses are %v", d)
	}
}

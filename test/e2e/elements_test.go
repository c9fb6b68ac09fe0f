package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func init() { register("ElementLabelsThroughProxy", testElementLabelsThroughProxy) }

const inlineLabelURL = "http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label"

// testElementLabelsThroughProxy stores a claim-like resource that mixes an
// ordinary diagnosis (hypertension) with a sensitive one (HIV) and reads it
// through the proxy: the sensitive diagnosis carries an inline label, the
// ordinary one none, and the resource says PROCESSINLINELABEL.
func testElementLabelsThroughProxy(t *testing.T, e *env) {
	eob := `{"resourceType":"ExplanationOfBenefit","id":"e2e-eob-mixed","status":"active",
	  "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},
	  "use":"claim","patient":{"reference":"Patient/pat-1"},"created":"2026-01-10",
	  "insurer":{"display":"Payer"},"provider":{"reference":"Organization/general-hospital"},"outcome":"complete",
	  "diagnosis":[
	    {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},
	    {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"}]}}
	  ],
	  "insurance":[{"focal":true,"coverage":{"display":"Plan"}}]}`
	e.upstream.Put(t, []byte(eob))
	r := e.get(t, "/fhir/ExplanationOfBenefit/e2e-eob-mixed", "consented")
	if r.Status != http.StatusOK {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	res := r.json(t)
	if !securityCodes(res)["PROCESSINLINELABEL"] {
		t.Errorf("no PROCESSINLINELABEL in meta.security: %s", r.Body)
	}
	diags, _ := res["diagnosis"].([]any)
	if len(diags) != 2 {
		t.Fatalf("diagnoses: %v", diags)
	}
	first, second := jsonString(diags[0]), jsonString(diags[1])
	if strings.Contains(first, inlineLabelURL) {
		t.Errorf("the ordinary diagnosis carries an inline label: %s", first)
	}
	if !strings.Contains(second, inlineLabelURL) || !strings.Contains(second, `"HIV"`) {
		t.Errorf("the HIV diagnosis carries no inline HIV label: %s", second)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func init() { register("BundleHighWaterMark", testBundleHighWaterMark) }

// testBundleHighWaterMark: a Bundle's meta.security summarises what it
// discloses, and only that.
func testBundleHighWaterMark(t *testing.T, e *env) {
	url := "/fhir/Condition?subject=" + sudPatient + "&_count=200"
	mine := e.get(t, url, "consented").json(t)
	if got := securityCodes(mine); !got["SUD"] || !got["R"] || got["NORDSCLCD"] {
		t.Errorf("consented Bundle mark %v, want SUD and R without refrain codes", got)
	}
	theirs := e.get(t, url, "other").json(t)
	if got := securityCodes(theirs); got["SUD"] || got["42CFRPart2"] {
		t.Errorf("the other caller's Bundle mark %v reveals withheld SUD data", got)
	}
}

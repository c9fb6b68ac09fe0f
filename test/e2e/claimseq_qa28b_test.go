package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func init() { register("CutClaimLeavesNoNumberingTellQA28B", testCutClaimNumberingQA28B) }

// testCutClaimNumberingQA28B stores, in Medplum, a claim whose first
// diagnosis is SUD and whose first item is billed for it, and reads it
// through the proxy (QA round 28, area B): a caller without consent gets
// the hypertension diagnosis numbered 1, the item billed for it still
// pointing at it, no trace of the SUD item and no total; the server keeps
// it all.
func testCutClaimNumberingQA28B(t *testing.T, e *env) {
	claim := `{"resourceType":"Claim","id":"e2e-claim-seq","status":"active",
	  "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},
	  "use":"claim","patient":{"reference":"Patient/pat-1"},"created":"2026-01-10","priority":{"coding":[{"code":"normal"}]},
	  "provider":{"reference":"Organization/general-hospital"},"insurance":[{"sequence":1,"focal":true,"coverage":{"display":"Plan"}}],
	  "diagnosis":[
	    {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},
	    {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}
	  ],
	  "item":[
	    {"sequence":1,"diagnosisSequence":[1],"productOrService":{"text":"counselling visit"},"net":{"value":100,"currency":"USD"}},
	    {"sequence":2,"diagnosisSequence":[2],"productOrService":{"text":"office visit"},"net":{"value":50,"currency":"USD"}}
	  ],
	  "total":{"value":150,"currency":"USD"}}`
	e.upstream.Put(t, []byte(claim))
	r := e.get(t, "/fhir/Claim/e2e-claim-seq", "other")
	if r.Status != http.StatusOK {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	res := r.json(t)
	diags, _ := res["diagnosis"].([]any)
	items, _ := res["item"].([]any)
	if len(diags) != 1 || !strings.Contains(jsonString(diags[0]), `"sequence":1`) || !strings.Contains(jsonString(diags[0]), `"I10"`) {
		t.Errorf("diagnoses: %s", jsonString(diags))
	}
	if len(items) != 1 || !strings.Contains(jsonString(items[0]), `"diagnosisSequence":[1]`) || !strings.Contains(jsonString(items[0]), "office visit") {
		t.Errorf("items: %s", jsonString(items))
	}
	// The total's value as a JSON number: a bare "150" also matched a
	// random versionId (6eccb2d1-0341-4312-b785-52f2fb361505).
	for _, leak := range []string{"F11.20", "counselling", `"total"`, `"value":150`, `:150}`} {
		if strings.Contains(string(r.Body), leak) {
			t.Errorf("the cut claim holds %s: %s", leak, r.Body)
		}
	}
	// The server holds it all: the cut was the proxy's.
	resp, err := http.Get(e.upstream.BaseURL + "/Claim/e2e-claim-seq")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "F11.20") || !strings.Contains(string(b), "counselling") || !strings.Contains(string(b), `"total"`) {
		t.Errorf("stored: %d %s", resp.StatusCode, b)
	}
}

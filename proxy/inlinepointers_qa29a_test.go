package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

func jsonStringQA29A(v any) string { b, _ := json.Marshal(v); return string(b) }

// QA round 29, area A: a claim item billed for a diagnosis the upstream
// labelled inline was written without inline labels for the caller who
// may read it all (a receiver honouring them passed on its service and
// amount while withholding the diagnosis); the caller denied it got it cut
// (as before).
func TestItemOfInlineLabelledDiagnosisLabelledQA29A(t *testing.T) {
	t.Parallel()
	cl := `{"resourceType":"Claim","id":"cl8","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
 "diagnosis":[{` + inlineSUDQA28B + `,"sequence":1,"diagnosisCodeableConcept":{"text":"opioid dependence"}},
  {"sequence":2,"diagnosisCodeableConcept":{"text":"hypertension"}}],
 "item":[{"sequence":1,"diagnosisSequence":[1],"productOrService":{"text":"counselling"},"net":{"value":100,"currency":"USD"}},
  {"sequence":2,"diagnosisSequence":[2],"productOrService":{"text":"bp"},"net":{"value":50,"currency":"USD"}}]}`
	h := newHarness(t, fhirJSONHandler(200, cl))
	resp, body := h.get("/fhir/Claim/cl8", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, body)
	items, _ := m["item"].([]any)
	if len(items) != 2 || !strings.Contains(jsonStringQA29A(items[0]), "extension-inline-sec-label") || strings.Contains(jsonStringQA29A(items[1]), "extension-inline-sec-label") {
		t.Errorf("items: %s", jsonStringQA29A(items))
	}
	resp, body = h.get("/fhir/Claim/cl8", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "counselling") || strings.Contains(body, "opioid") || !strings.Contains(body, "bp") {
		t.Errorf("denied: %d %s", resp.StatusCode, body)
	}
}

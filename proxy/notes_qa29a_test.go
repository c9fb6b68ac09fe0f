package proxy

import (
	"reflect"
	"strings"
	"testing"
)

// QA round 29, area A: the notes of an ExplanationOfBenefit are numbered
// again after a cut, but the note numbers its items' details name
// (item.detail.noteNumber, detail.subDetail.noteNumber) were neither read
// nor followed: a note only a kept detail named went as one no kept item
// names, and a detail's pointer stayed at the old number, naming another
// note or none.
func TestNestedNoteNumbersFollowQA29A(t *testing.T) {
	t.Parallel()
	eob := `{"resourceType":"ExplanationOfBenefit","id":"e7","status":"active","use":"claim","outcome":"complete",
 "patient":{"reference":"Patient/p1"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}],
 "item":[{"sequence":1,"diagnosisSequence":[1],"noteNumber":[1],"productOrService":{"text":"counselling"}},
  {"sequence":2,"diagnosisSequence":[2],"noteNumber":[2],"productOrService":{"text":"office visit"},
   "detail":[{"sequence":1,"noteNumber":[3],"productOrService":{"text":"lab"},"subDetail":[{"sequence":1,"noteNumber":[4,1],"productOrService":{"text":"panel"}}]}]}],
 "processNote":[{"number":1,"text":"programme rate"},{"number":2,"text":"standard rate"},{"number":3,"text":"lab rate"},{"number":4,"text":"panel rate"}]}`
	h := newHarness(t, fhirJSONHandler(200, eob))
	resp, body := h.get("/fhir/ExplanationOfBenefit/e7", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "counselling") || strings.Contains(body, "programme") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, body)
	want := map[string]string{
		"item": `[{"sequence":2,"diagnosisSequence":[1],"noteNumber":[1],"productOrService":{"text":"office visit"},
   "detail":[{"sequence":1,"noteNumber":[2],"productOrService":{"text":"lab"},"subDetail":[{"sequence":1,"noteNumber":[3],"productOrService":{"text":"panel"}}]}]}]`,
		"processNote": `[{"number":1,"text":"standard rate"},{"number":2,"text":"lab rate"},{"number":3,"text":"panel rate"}]`,
	}
	for k, w := range want {
		if !reflect.DeepEqual(m[k], jsonQA28B(t, w)) {
			t.Errorf("%s: got %v, want %s", k, m[k], w)
		}
	}
}

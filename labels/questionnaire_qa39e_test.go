package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// phq9Form is a PHQ-9 Questionnaire as an EHR stores it: coded by its
// LOINC panel, which the MH rules label.
const phq9Form = `{"resourceType":"Questionnaire","id":"phq9","url":"http://example.org/fhir/Questionnaire/phq9","status":"active",` +
	`"code":[{"system":"http://loinc.org","code":"44249-1"}],"item":[{"linkId":"/44261-6","type":"integer"}]}`

// phq9Answers is a patient's response to a PHQ-9 whose form is named by
// questionnaire q: its items hold linkIds and answers only (FHIR R4
// QuestionnaireResponse.item has no code).
func phq9Answers(q string) string {
	return `{"resourceType":"QuestionnaireResponse","id":"qr1","status":"completed","subject":{"reference":"Patient/p1"},` +
		`"questionnaire":` + q + `,"item":[{"linkId":"/44261-6","text":"PHQ-9 total score","answer":[{"valueInteger":21}]}]}`
}

// TestQuestionnaireResponseLabelledByItsFormQA39E: a QuestionnaireResponse
// is the patient's answers to the form its questionnaire names. A PHQ-9
// Observation, and the blank PHQ-9 form itself, were MH by the LOINC panel
// 44249-1 (mh.yaml, after SHIFT), while the patient's PHQ-9 answers, whose
// items carry no code, went out ordinary to a caller denied MH: a LOINC
// form's canonical (http://loinc.org/q/44249-1) is read as its LOINC code,
// and any other canonical names the Questionnaire, whose labels pass on as
// a reason's do (fetched when the response does not hold it).
func TestQuestionnaireResponseLabelledByItsFormQA39E(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	for _, q := range []string{
		`"http://loinc.org/q/44249-1"`,
		`"https://loinc.org/q/44249-1|2.76"`,
		`" HTTP://LOINC.ORG/q/44249-1 "`,
		`"http:\/\/loinc.org\/q\/44249-1"`,
	} {
		r, err := l.Label([]byte(phq9Answers(q)))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Labels.Has(mhLabel) {
			t.Errorf("questionnaire %s: labels %v, want MH (the PHQ-9 panel)", q, r.Labels)
		}
	}
	for _, q := range []string{`"http://loinc.org/q/29463-7"`, `"http://example.org/loinc.org/q/44249-1"`, `""`, `"|1"`} {
		r, err := l.Label([]byte(phq9Answers(q)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(mhLabel) {
			t.Errorf("questionnaire %s (no MH form): labels %v", q, r.Labels)
		}
	}

	// The form a server holds, named by its reference or canonical URL,
	// in the same response and read from the upstream.
	for _, q := range []string{`"Questionnaire/phq9"`, `"Questionnaire/phq9|3"`, `"http://example.org/fhir/Questionnaire/phq9"`} {
		rs, err := l.LabelAll([][]byte{[]byte(phq9Form), []byte(phq9Answers(q))})
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Labels.Has(mhLabel) {
			t.Fatalf("the form: labels %v, want MH; the test shows nothing", rs[0].Labels)
		}
		if !rs[1].Labels.Has(mhLabel) {
			t.Errorf("questionnaire %s in the batch: labels %v, want MH from the form", q, rs[1].Labels)
		}
	}
	u := newUpstream(phq9Form)
	got := labelResolving(t, part2Labeller(t, 100), u, phq9Answers(`"Questionnaire/phq9"`))
	if !got[0].Labels.Has(mhLabel) {
		t.Errorf("form read from the upstream: labels %v, want MH (asked %v)", got[0].Labels, u.askedFor())
	}
	// STU3 wrote the form as a Reference.
	rs, err := l.LabelAll([][]byte{[]byte(phq9Form), []byte(phq9Answers(`{"reference":"Questionnaire/phq9"}`))})
	if err != nil {
		t.Fatal(err)
	}
	if !rs[1].Labels.Has(mhLabel) {
		t.Errorf("STU3 Reference: labels %v, want MH", rs[1].Labels)
	}
}

var mhLabel = labels.Label{System: labels.SystemActCode, Code: "MH"}

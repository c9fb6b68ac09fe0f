package labels_test

import (
	"strconv"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 39, area H: screening instruments and suicidality. Each case is
// a patient's record whose only sensitive trace is the code named; the
// "ordinary" cases are neighbours that must stay so.

type qa39hCase struct {
	name, in, topic string // topic "" = ordinary
}

func qa39hCheck(t *testing.T, cases []qa39hCase) {
	t.Helper()
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, topic := range []string{"SUD", "MH"} {
			if r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: topic}) != (topic == c.topic) {
				t.Errorf("%s: labels %v; want topic %q", c.name, r.Labels, c.topic)
			}
		}
		if (c.topic != "") != r.Labels.Has(labels.Restricted) {
			t.Errorf("%s: labels %v; want R only with a topic (%q)", c.name, r.Labels, c.topic)
		}
	}
}

func qa39hObservation(code string, value int) string {
	return `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"survey"}]}],` +
		`"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]},"valueInteger":` + strconv.Itoa(value) + `}`
}

func qa39hQR(form string) string {
	return `{"resourceType":"QuestionnaireResponse","status":"completed","subject":{"reference":"Patient/p1"},"questionnaire":"http://loinc.org/q/` + form + `",` +
		`"item":[{"linkId":"1","answer":[{"valueCoding":{"system":"http://loinc.org","code":"LA32-8","display":"No"}}]}]}`
}

// TestScreeningInstrumentsQA39H: the DAST-10 (asked of a patient suspected
// of drug misuse; its items are the patient's drug use and its harms) is
// SUD, the C-SSRS (a suicide risk assessment; its items are the patient's
// suicidal thoughts and acts) MH, whatever the score, and so is a response
// to the LOINC form. The universal screens (PHQ-2, GAD-7, AUDIT-C) and
// SDOH screens stay ordinary.
func TestScreeningInstrumentsQA39H(t *testing.T) {
	t.Parallel()
	qa39hCheck(t, []qa39hCase{
		{"DAST-10 total score", qa39hObservation("82667-7", 4), "SUD"},
		{"DAST-10 total score 0", qa39hObservation("82667-7", 0), "SUD"},
		{"DAST-10 panel", qa39hObservation("82666-9", 2), "SUD"},
		{"DAST-10 response (LOINC form)", qa39hQR("82666-9"), "SUD"},
		{"C-SSRS lifetime recent panel", qa39hObservation("93245-9", 1), "MH"},
		{"C-SSRS very young child panel", qa39hObservation("93485-1", 1), "MH"},
		{"C-SSRS suicidal ideation section", qa39hObservation("93278-0", 1), "MH"},
		{"C-SSRS thoughts of killing yourself", qa39hObservation("93247-5", 1), "MH"},
		{"C-SSRS suicidal behaviour", qa39hObservation("93267-3", 0), "MH"},
		{"C-SSRS suicide risk level", qa39hObservation("93374-7", 1), "MH"},
		{"C-SSRS response (LOINC form)", qa39hQR("93245-9"), "MH"},
		{"AUDIT-C (universal screen)", qa39hObservation("72109-2", 2), ""},
		{"GAD-7 total score (universal screen)", qa39hObservation("70274-6", 3), ""},
		{"PHQ-2 total score (universal screen)", qa39hObservation("55758-7", 1), ""},
		{"PRAPARE response", qa39hQR("93025-5"), ""},
		{"body height", qa39hObservation("8302-2", 180), ""},
	})
}

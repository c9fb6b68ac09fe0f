package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// qa39hMHCheck: each input is MH and R when mh is set, and carries no
// topic nor R otherwise.
func qa39hMHCheck(t *testing.T, cases []struct {
	name, in string
	mh       bool
}) {
	t.Helper()
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		mh := r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: "MH"})
		if mh != c.mh || r.Labels.Has(labels.Restricted) != c.mh {
			t.Errorf("%s: labels %v; want MH and R: %v", c.name, r.Labels, c.mh)
		}
	}
}

// TestSuicidalityOutsideChapterFQA39H: suicidal ideation, a suicide attempt,
// a history of suicidal behaviour and intentional self-harm are mental
// health information whatever code carries them; ICD-10-CM codes them
// outside chapter 5 (R45.851, T14.91, Z91.51, X71-X83), and SHIFT's Synthea
// self-harm set names SNOMED CT's suicide codes. Each went out ordinary.
// Other injuries, falls, assaults and the self-harm set's generic codes
// (emergency room admission, autopsy) stay ordinary.
func TestSuicidalityOutsideChapterFQA39H(t *testing.T) {
	t.Parallel()
	enc := func(code string) string {
		return `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"reasonCode":[{"coding":[{"system":"` + qa32bICD10CM + `","code":"` + code + `"}]}]}`
	}
	claim := func(code string) string {
		return `{"resourceType":"Claim","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"` + qa32bICD10CM + `","code":"` + code + `"}]}}]}`
	}
	qa39hMHCheck(t, []struct {
		name, in string
		mh       bool
	}{
		{"suicidal ideations", qa32bCondition(qa32bICD10CM, "R45.851"), true},
		{"suicidal ideations, no dot", enc("R45851"), true},
		{"suicide attempt, initial encounter", enc("T14.91XA"), true},
		{"suicide attempt, sequela", qa32bCondition(qa32bICD10CM, "T14.91XS"), true},
		{"personal history of suicidal behavior", qa32bCondition(qa32bICD10CM, "Z91.51"), true},
		{"self-harm by drowning (X71)", claim("X71.0XXA"), true},
		{"self-harm by sharp object (X78)", enc("X78.9XXA"), true},
		{"self-harm by other specified means (X83)", claim("X83.8XXA"), true},
		{"suicidal poisoning (SNOMED)", qa32bCondition(qa32bSNOMED, "86849004"), true},
		{"attempted suicide by cutting (SNOMED)", qa32bCondition(qa32bSNOMED, "287185009"), true},
		{"suicide (event) (SNOMED)", qa32bCondition(qa32bSNOMED, "44301001"), true},
		{"anti-suicide psychotherapy (SNOMED)", `{"resourceType":"Procedure","status":"completed","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + qa32bSNOMED + `","code":"183401008"}]}}`, true},
		{"WHO ICD-10 self-poisoning (X61)", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"X61"}]}}`, true},
		{"WHO ICD-10 history of self-harm (Z91.5)", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"Z91.5"}]}}`, true},
		{"WHO ICD-10 assault (X85)", `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"X85"}]}}`, false},
		{"injury, unspecified", enc("T14.90XA"), false},
		{"fall, unspecified", enc("W19.XXXA"), false},
		{"exposure to other specified factors (X58)", claim("X58.XXXA"), false},
		{"assault by bodily force", enc("Y04.0XXA"), false},
		{"history of falling", qa32bCondition(qa32bICD10CM, "Z91.81"), false},
		{"emergency room admission (SNOMED, same SHIFT set)", qa32bCondition(qa32bSNOMED, "50849002"), false},
		{"autopsy (SNOMED, same SHIFT set)", qa32bCondition(qa32bSNOMED, "29240004"), false},
	})
}

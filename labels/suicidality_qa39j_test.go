package labels_test

import "testing"

// TestSuicidalityCodeExtensionsQA39J: mh-icd10cm-suicide read R45.851 and
// Z91.51 as whole codes while it reads T14.91 as a prefix, and ed9ca1f
// reads the SUD counselling codes as prefixes for the same reason: a
// Condition coded R45.8510 or Z91.510 (a local extension) or Z91511 (a
// padded code) went out ordinary, and so did WHO ICD-10's Z91.5 with a
// national modification's subdivision (Z91.50). Neighbours stay ordinary.
func TestSuicidalityCodeExtensionsQA39J(t *testing.T) {
	t.Parallel()
	const who = "http://hl7.org/fhir/sid/icd-10"
	qa39hMHCheck(t, []struct {
		name, in string
		mh       bool
	}{
		{"suicidal ideations, local extension", qa32bCondition(qa32bICD10CM, "R45.8510"), true},
		{"history of suicidal behavior, local extension", qa32bCondition(qa32bICD10CM, "Z91.510"), true},
		{"history of suicidal behavior, padded", qa32bCondition(qa32bICD10CM, "Z91511"), true},
		{"WHO history of self-harm, national subdivision", qa32bCondition(who, "Z91.50"), true},
		{"suicidal ideations", qa32bCondition(qa32bICD10CM, "R45.851"), true},
		{"WHO history of self-harm", qa32bCondition(who, "Z91.5"), true},
		{"homicidal ideations", qa32bCondition(qa32bICD10CM, "R45.850"), false},
		{"history of nonsuicidal self-harm", qa32bCondition(qa32bICD10CM, "Z91.52"), false},
		{"history of other specified risk factors", qa32bCondition(qa32bICD10CM, "Z91.89"), false},
		{"WHO history of other specified risk factors", qa32bCondition(who, "Z91.8"), false},
		{"WHO history of psychological trauma", qa32bCondition(who, "Z91.4"), false},
	})
}

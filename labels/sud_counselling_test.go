package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestSUDCounsellingAndMisuseCodes: the counselling, rehabilitation and
// misuse codes outside F10-F19 that name the patient's own alcohol or drug
// abuse are SUD and restricted (alcohol ones ETHUD as well); their
// neighbours about a family member, tobacco or other counselling stay
// ordinary.
func TestSUDCounsellingAndMisuseCodes(t *testing.T) {
	t.Parallel()
	const icd10 = "http://hl7.org/fhir/sid/icd-10"
	ethud := labels.Label{System: labels.SystemActCode, Code: "ETHUD"}
	cases := []struct {
		name, system, code string
		sud, alcohol       bool
	}{
		{"alcohol abuse counselling (ICD-10-CM)", qa32bICD10CM, "Z71.41", true, true},
		{"drug abuse counselling (ICD-10-CM)", qa32bICD10CM, "Z71.51", true, false},
		{"drug abuse counselling, no dot (ICD-10-CM)", qa32bICD10CM, "Z7151", true, false},
		{"counselling a family member of an alcoholic", qa32bICD10CM, "Z71.42", false, false},
		{"counselling a family member of a drug abuser", qa32bICD10CM, "Z71.52", false, false},
		{"tobacco counselling (ICD-10-CM)", qa32bICD10CM, "Z71.6", false, false},
		{"other counselling (ICD-10-CM)", qa32bICD10CM, "Z71.89", false, false},
		{"alcohol abuse counselling (WHO)", icd10, "Z71.4", true, false},
		{"drug abuse counselling (WHO)", icd10, "Z71.5", true, false},
		{"rehabilitation of an alcoholic (WHO)", icd10, "Z50.2", true, false},
		{"rehabilitation of a drug addict (WHO)", icd10, "Z50.3", true, false},
		{"tobacco counselling (WHO)", icd10, "Z71.6", false, false},
		{"other rehabilitation (WHO)", icd10, "Z50.8", false, false},
		{"misuses drugs (SNOMED CT)", qa32bSNOMED, "361055000", true, false},
		{"unhealthy alcohol drinking (SNOMED CT)", qa32bSNOMED, "10939881000119105", true, true},
	}
	l := labels.Default()
	for _, c := range cases {
		r, err := l.Label([]byte(qa32bCondition(c.system, c.code)))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sud := r.Labels.Has(labels.SUD) && r.Labels.Has(labels.Restricted)
		if sud != c.sud {
			t.Errorf("%s (%s): SUD and R = %v, want %v (labels %v)", c.name, c.code, sud, c.sud, r.Labels)
		}
		if !c.sud && len(r.Labels) != 0 {
			t.Errorf("%s (%s): labels %v, want none", c.name, c.code, r.Labels)
		}
		if got := r.Labels.Has(ethud); got != c.alcohol {
			t.Errorf("%s (%s): ETHUD = %v, want %v", c.name, c.code, got, c.alcohol)
		}
	}
}

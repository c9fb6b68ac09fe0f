package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 33, area B: psychotropic drugs are not labelled MH as a class
// (mh.yaml says why): bupropion for smoking cessation and nortriptyline
// (VSAC Tobacco Use Cessation Pharmacotherapy 2.16.840.1.113883.3.526.3.1190),
// duloxetine, amitriptyline (VSAC Antidepressants 2.16.840.1.113762.1.4.1248.163,
// also pain and migraine), and the ADHD drugs of Synthea's module stay
// ordinary; the antidepressant codes bh-rxnorm names stay MH.
func TestPsychotropicsStayOrdinaryQA33B(t *testing.T) {
	t.Parallel()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	l := labels.Default()
	label := func(code string) labels.Set {
		r, err := l.Label([]byte(qa32eInline("MedicationRequest", code)))
		if err != nil {
			t.Fatal(err)
		}
		return r.Labels
	}
	for code, name := range map[string]string{
		"993518":  "12 HR bupropion hydrochloride 150 MG (smoking cessation)",
		"198045":  "nortriptyline 10 MG Oral Capsule",
		"596934":  "duloxetine 60 MG Delayed Release Oral Capsule",
		"856783":  "amitriptyline hydrochloride 10 MG Oral Tablet",
		"1091392": "methylphenidate hydrochloride 20 MG Oral Tablet",
		"608139":  "atomoxetine 100 MG Oral Capsule",
	} {
		if got := label(code); got.Has(mh) || got.Has(labels.Restricted) {
			t.Errorf("%s (%s): labels %v, want ordinary", name, code, got)
		}
	}
	for _, code := range []string{"315952", "310385", "312941"} {
		if got := label(code); !got.Has(mh) {
			t.Errorf("bh-rxnorm code %s: labels %v, want MH", code, got)
		}
	}
}

package labels_test

import (
	"testing"
)

// TestQuestionnaireDerivedFromFormQA39G: an EHR's own adaptation of the
// PHQ-9 names the LOINC form it adapts in derivedFrom (SDC; its items may
// carry no code, its own code may be none). derivedFrom of a definitional
// resource is a list of canonicals, which the labeller did not read: the
// adapted form was ordinary, and so was a patient's response to it, where
// a response to the LOINC form itself is MH since cf1ca17. Each canonical
// is read as a QuestionnaireResponse's questionnaire is.
func TestQuestionnaireDerivedFromFormQA39G(t *testing.T) {
	t.Parallel()
	adapted := func(id, from string) string {
		return `{"resourceType":"Questionnaire","id":"` + id + `","status":"active","derivedFrom":["http://example.org/other",` + from + `],` +
			`"item":[{"linkId":"1","type":"integer"}]}`
	}
	l := part2Labeller(t, 0)
	// A LOINC form's canonical is its code.
	for _, from := range []string{`"http://loinc.org/q/44249-1"`, `"http://loinc.org/q/44249-1|2.76"`} {
		rs, err := l.LabelAll([][]byte{[]byte(adapted("a1", from)), []byte(phq9Answers(`"Questionnaire/a1"`))})
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Labels.Has(mhLabel) || !rs[1].Labels.Has(mhLabel) {
			t.Errorf("derivedFrom %s: the form %v, its response %v; want MH", from, rs[0].Labels, rs[1].Labels)
		}
	}
	// Another form, read from the upstream: its labels pass on.
	u := newUpstream(phq9Form)
	got := labelResolving(t, part2Labeller(t, 100), u, adapted("a2", `"Questionnaire/phq9"`))
	if !got[0].Labels.Has(mhLabel) {
		t.Errorf("derived from Questionnaire/phq9 (read): labels %v, want MH (asked %v)", got[0].Labels, u.askedFor())
	}
	// Ordinary: another LOINC form; Observation.derivedFrom stays references.
	rs, err := l.LabelAll([][]byte{[]byte(adapted("a3", `"http://loinc.org/q/93025-5"`))})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Labels.Has(mhLabel) {
		t.Errorf("derived from PRAPARE: labels %v", rs[0].Labels)
	}
	// A loop of forms ends.
	u = newUpstream(adapted("l1", `"Questionnaire/l2"`), adapted("l2", `"Questionnaire/l1"`))
	got = labelResolving(t, part2Labeller(t, 100), u, adapted("l0", `"Questionnaire/l1"`))
	if got[0].Labels.Has(mhLabel) {
		t.Errorf("a loop of ordinary forms: labels %v", got[0].Labels)
	}
}

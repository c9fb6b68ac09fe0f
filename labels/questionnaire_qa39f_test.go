package labels_test

import "testing"

// TestLOINCFormCanonicalTailQA39F: a LOINC form's canonical with a
// trailing slash, a query or a fragment after the code
// ("http://loinc.org/q/44249-1/") matched no LOINC code, and is no content
// reference either (cf1ca17 reads the tail as the code): the patient's
// PHQ-9 answers went out ordinary. The code before them is matched.
func TestLOINCFormCanonicalTailQA39F(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 0)
	for _, q := range []string{`"http://loinc.org/q/44249-1/"`, `"http://loinc.org/q/44249-1#x"`, `"https://loinc.org/q/44249-1?_format=json"`, `"http://loinc.org/q/44249-1/|2.76"`} {
		r, err := l.Label([]byte(phq9Answers(q)))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Labels.Has(mhLabel) {
			t.Errorf("questionnaire %s: labels %v, want MH (the PHQ-9 panel)", q, r.Labels)
		}
	}
	for _, q := range []string{`"http://loinc.org/q/29463-7/"`, `"http://loinc.org/q/#44249-1"`, `"http://loinc.org/q//"`} {
		r, err := l.Label([]byte(phq9Answers(q)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Labels.Has(mhLabel) {
			t.Errorf("questionnaire %s (no MH form): labels %v", q, r.Labels)
		}
	}
}

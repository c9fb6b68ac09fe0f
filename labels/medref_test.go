package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// The drug of a medication order, statement, administration or dispense
// named by reference passes its labels on, as a contained one does, both
// within a batch and through Resolve; so do a procedure's used items, a
// medication's ingredients and a document's context.related (QA round 18).
func TestMedicationReferencePropagates(t *testing.T) {
	t.Parallel()
	const bup = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1010604"}]}}`
	const sudCond = `{"resourceType":"Condition","id":"sud","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	type tc struct{ name, res, target string }
	var cases []tc
	for _, typ := range []string{"MedicationRequest", "MedicationStatement", "MedicationAdministration", "MedicationDispense"} {
		cases = append(cases,
			tc{typ + " R4 medicationReference", `{"resourceType":"` + typ + `","id":"m1","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup","display":"Suboxone"}}`, bup},
			tc{typ + " R5 medication", `{"resourceType":"` + typ + `","id":"m1","subject":{"reference":"Patient/p1"},"medication":{"reference":{"reference":"Medication/bup"}}}`, bup})
	}
	cases = append(cases,
		tc{"Procedure usedReference", `{"resourceType":"Procedure","id":"p","subject":{"reference":"Patient/p1"},"usedReference":[{"reference":"Medication/bup"}]}`, bup},
		tc{"Medication ingredient", `{"resourceType":"Medication","id":"combo","ingredient":[{"itemReference":{"reference":"Medication/bup"}}]}`, bup},
		tc{"Medication R5 ingredient", `{"resourceType":"Medication","id":"combo","ingredient":[{"item":{"reference":{"reference":"Medication/bup"}}}]}`, bup},
		tc{"DocumentReference context.related", `{"resourceType":"DocumentReference","id":"d","subject":{"reference":"Patient/p1"},"context":{"related":[{"reference":"Condition/sud"}]}}`, sudCond},
	)
	for _, c := range cases {
		l := labels.Default()
		rs, err := l.LabelAll([][]byte{[]byte(c.res), []byte(c.target)})
		if err != nil {
			t.Fatal(err)
		}
		if !rs[0].Labels.Has(labels.SUD) {
			t.Errorf("%s, target in the batch: labels %v, want SUD", c.name, rs[0].Labels)
		}
		l, err = labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		u := newUpstream(c.target)
		out := labelResolving(t, l, u, c.res)
		if !out[0].Labels.Has(labels.SUD) {
			t.Errorf("%s, target fetched: labels %v (fetched %v), want SUD", c.name, out[0].Labels, u.askedFor())
		}
	}
	// DocumentReference.context.encounter stays context: an ordinary
	// encounter's note does not become SUD from another target.
	l := labels.Default()
	rs, err := l.LabelAll([][]byte{[]byte(`{"resourceType":"DocumentReference","id":"d","context":{"encounter":[{"reference":"Condition/sud"}]}}`), []byte(sudCond)})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Labels.Has(labels.SUD) {
		t.Errorf("context.encounter passed SUD on: %v", rs[0].Labels)
	}
}

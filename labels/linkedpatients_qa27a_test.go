package labels

import (
	"slices"
	"testing"
)

// A resource whose content references name another patient's record in
// the batch is that patient's too (linkedPatients): labels flowed from the
// target, its patient did not, and the referrer was decided under its own
// patient's consents only (QA round 27, area A). Chains are followed;
// context references and targets naming no patient give none.
func TestLinkedPatients(t *testing.T) {
	c2 := `{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"},"code":{"text":"x"}}`
	c1 := `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"x"}}`
	e2 := `{"resourceType":"Encounter","id":"e2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p2"}}`
	med := `{"resourceType":"Medication","id":"m","code":{"text":"x"}}`
	for _, tt := range []struct {
		name string
		res  string
		want []string // Patient, then Patients when more than one
	}{
		{"List of p1 with p2's entry", `{"resourceType":"List","id":"l","status":"current","mode":"working","subject":{"reference":"Patient/p1"},"entry":[{"item":{"reference":"Condition/c2"}}]}`, []string{"Patient/p1", "Patient/p2"}},
		{"List with no subject", `{"resourceType":"List","id":"l","status":"current","mode":"working","entry":[{"item":{"reference":"Condition/c2"}}]}`, []string{"Patient/p2"}},
		{"Observation focus", `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"focus":[{"reference":"Condition/c2"}]}`, []string{"Patient/p1", "Patient/p2"}},
		{"chain through a List", `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"focus":[{"reference":"List/l9"}]}`, []string{"Patient/p1", "Patient/p2"}},
		{"own record", `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"focus":[{"reference":"Condition/c1"}]}`, []string{"Patient/p1"}},
		{"context reference", `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e2"}}`, []string{"Patient/p1"}},
		{"no patient's target", `{"resourceType":"MedicationRequest","id":"mr","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/m"}}`, []string{"Patient/p1"}},
	} {
		l9 := `{"resourceType":"List","id":"l9","status":"current","mode":"working","entry":[{"item":{"reference":"Condition/c2"}}]}`
		rs, err := Default().LabelAll([][]byte{[]byte(tt.res), []byte(l9), []byte(c2), []byte(c1), []byte(e2), []byte(med)})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{rs[0].Patient}
		if len(rs[0].Patients) > 0 {
			got = rs[0].Patients
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: patients %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The same from the label cache: a sensitive target seen in an earlier
// response is not read again, and gives its patients with its labels.
func TestLinkedPatientsFromCache(t *testing.T) {
	l, err := NewLabeller(Options{Rules: DefaultRules(), CacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	c2 := `{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	if _, err := l.LabelAll([][]byte{[]byte(c2)}); err != nil {
		t.Fatal(err)
	}
	list := `{"resourceType":"List","id":"l","status":"current","mode":"working","subject":{"reference":"Patient/p1"},"entry":[{"item":{"reference":"Condition/c2"}}]}`
	b := l.NewBatch()
	var r Result
	if err := b.AddValid([]byte(list), &r); err != nil {
		t.Fatal(err)
	}
	if err := b.Resolve(func([]Target) ([][]byte, error) { t.Fatal("a cached target was read again"); return nil, nil }); err != nil {
		t.Fatal(err)
	}
	b.Finish()
	if !slices.Equal(r.Patients, []string{"Patient/p1", "Patient/p2"}) || !r.Effective().Has(SUD) && !r.Mixed {
		t.Errorf("List from the cache: patients %v %q, labels %v mixed %v", r.Patients, r.Patient, r.Labels, r.Mixed)
	}
}

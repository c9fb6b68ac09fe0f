package labels_test

import (
	"strconv"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// derivedChain returns Observations o0 ... o<n-1> of patient p1, each
// derived from the next, the last an opioid use disorder of patient last.
func derivedChain(n int, last string) [][]byte {
	var out [][]byte
	for i := range n {
		subject, code, ref := "Patient/p1", `"code":{"text":"note"}`, `,"derivedFrom":[{"reference":"Observation/o`+strconv.Itoa(i+1)+`"}]`
		if i == n-1 {
			subject, code, ref = last, `"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}`, ""
		}
		out = append(out, []byte(`{"resourceType":"Observation","id":"o`+strconv.Itoa(i)+`","subject":{"reference":"`+subject+`"},`+code+ref+`}`))
	}
	return out
}

// TestChainInTheResponseFollowedToItsEndQA43A (QA round 43, helper A, on
// the bound d845ffe kept for labels): a chain of references held by the
// response itself (Observation?_id=o0&_include:iterate=
// Observation:derived-from, o0 ... o13, o13 an opioid use disorder)
// stopped after 8 rounds of propagation, each moving labels one hop when
// the chain runs forward in the batch: o0 to o4 were ordinary (and not
// o13's patient's), where o0 read alone was withheld (the chain past 8
// unread: errChainTooDeep). Labels and patients now travel to the end of
// the chain, in either order.
func TestChainInTheResponseFollowedToItsEndQA43A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range []string{"forward", "backward"} {
		batch := derivedChain(14, "Patient/p9")
		if order == "backward" {
			for i, j := 0, len(batch)-1; i < j; i, j = i+1, j-1 {
				batch[i], batch[j] = batch[j], batch[i]
			}
		}
		rs, err := l.LabelAll(batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if !r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: "SUD"}) || !r.HasPatient("Patient/p9") {
				t.Errorf("%s: %s: labels %v, patients %v; want SUD and Patient/p9's (derived from o13)", order, r.ID, r.Labels, r.Patients)
			}
		}
	}
}

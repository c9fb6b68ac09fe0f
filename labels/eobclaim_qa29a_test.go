package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 29, area A: an ExplanationOfBenefit with no diagnosis of its
// own, naming a Claim whose SUD item is cut (claim) or the ClaimResponse
// answering it (claimResponse), passed as ordinary: its item 1 showed
// what was paid for the cut item. It inherits from them item by item.
func TestEOBInheritsFromItsClaimItemByItemQA29A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	eob := func(member, ref string) string {
		return `{"resourceType":"ExplanationOfBenefit","id":"e1","patient":{"reference":"Patient/p"},"` + member + `":{"reference":"` + ref + `"},
 "item":[{"sequence":1,"productOrService":{"text":"visit"}},{"sequence":2,"productOrService":{"text":"check"}}]}`
	}
	resp := `{"resourceType":"ClaimResponse","id":"cr1","patient":{"reference":"Patient/p"},"request":{"reference":"Claim/cl1"},
 "item":[{"itemSequence":1},{"itemSequence":2}]}`
	for name, rs := range map[string][]string{
		"claim":                   {eob("claim", "Claim/cl1"), claimQA29A},
		"claimResponse":           {eob("claimResponse", "ClaimResponse/cr1"), resp, claimQA29A},
		"claimResponse, no claim": {eob("claimResponse", "ClaimResponse/cr1"), resp},
	} {
		in := make([][]byte, len(rs))
		for i, r := range rs {
			in[i] = []byte(r)
		}
		out, err := l.LabelAll(in)
		if err != nil {
			t.Fatal(err)
		}
		r := out[0]
		want := "item[0]"
		if name == "claimResponse, no claim" {
			want = ""
		}
		if sudPaths(r) != want || r.Labels.Has(labels.SUD) || want != "" && !r.Mixed {
			t.Errorf("%s: mixed %v, labels %v, SUD elements %q; want %q", name, r.Mixed, r.Labels, sudPaths(r), want)
		}
	}
}

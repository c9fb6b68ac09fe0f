package labels_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 29, area A: a ClaimResponse inherits from its Claim (request)
// item by item.

const claimQA29A = `{"resourceType":"Claim","id":"cl1","patient":{"reference":"Patient/p"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}],
 "item":[{"sequence":1,"diagnosisSequence":[1]},{"sequence":2,"diagnosisSequence":[2]}]}`

// sudPaths returns the paths of r's elements labelled SUD, sorted.
func sudPaths(r labels.Result) string {
	var out []string
	for _, e := range r.Elements {
		if e.Labels.Has(labels.SUD) {
			out = append(out, e.Path)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestClaimResponseInheritsItemByItemQA29A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	resp := `{"resourceType":"ClaimResponse","id":"cr1","patient":{"reference":"Patient/p"},"request":{"reference":"Claim/cl1"},
 "item":[{"itemSequence":1},{"itemSequence":2}],"addItem":[{"itemSequence":[2]},{"itemSequence":[ 1 ,2]}],
 "error":[{"itemSequence":1,"code":{"text":"x"}},{"code":{"text":"y"}}]}`
	rs, err := l.LabelAll([][]byte{[]byte(resp), []byte(claimQA29A)})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if !r.Mixed || r.Labels.Has(labels.SUD) || sudPaths(r) != "addItem[1] error[0] item[0]" {
		t.Errorf("mixed %v, labels %v, SUD elements %q; want addItem[1] error[0] item[0]", r.Mixed, r.Labels, sudPaths(r))
	}

	// Fail closed: the response names no element of the SUD item 1 (its
	// labels could be anywhere in it), or the SUD diagnosis goes to no
	// item of the claim: the response is labelled whole.
	for name, c := range map[string][2]string{
		"item 1 not adjudicated": {`{"resourceType":"ClaimResponse","id":"cr2","patient":{"reference":"Patient/p"},"request":{"reference":"Claim/cl1"},"item":[{"itemSequence":2}]}`, claimQA29A},
		"diagnosis billed by no item": {`{"resourceType":"ClaimResponse","id":"cr3","patient":{"reference":"Patient/p"},"request":{"reference":"Claim/cl1"},"item":[{"itemSequence":1},{"itemSequence":2}]}`,
			strings.Replace(claimQA29A, `"diagnosisSequence":[1]`, `"diagnosisSequence":[2]`, 1)},
	} {
		rs, err := l.LabelAll([][]byte{[]byte(c[0]), []byte(c[1])})
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[0]; r.Mixed || !r.Labels.Has(labels.SUD) {
			t.Errorf("%s: mixed %v, labels %v; want SUD whole", name, r.Mixed, r.Labels)
		}
	}

	// A Claim the label cache holds (labelled by an earlier response) is
	// read again, so that the response is labelled item by item.
	lc, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.LabelAll([][]byte{[]byte(claimQA29A)}); err != nil {
		t.Fatal(err)
	}
	asked := 0
	rs, err = lc.LabelAllResolving([][]byte{[]byte(resp)}, false, func(ts []labels.Target) ([][]byte, error) {
		for _, tg := range ts {
			if tg.Key() == "Claim/cl1" {
				asked++
				return [][]byte{[]byte(claimQA29A)}, nil
			}
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; asked != 1 || !r.Mixed || sudPaths(r) != "addItem[1] error[0] item[0]" {
		t.Errorf("cached claim: asked %d, mixed %v, labels %v, SUD elements %q", asked, r.Mixed, r.Labels, sudPaths(r))
	}
}

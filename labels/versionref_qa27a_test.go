package labels_test

import (
	"slices"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// A reference naming a version passes on that version's labels beside the
// current one's (QA round 27, area A: Condition/c1/_history/1, once coded
// opioid dependence, labelled from its ordinary current version only). The
// label cache remembers an ordinary version as known; a sensitive one is
// read again for each batch, the cache holding current versions only.
func TestVersionedReferenceLabels(t *testing.T) {
	t.Parallel()
	const v1 = `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	const v2 = `{"resourceType":"Condition","id":"c1","meta":{"versionId":"2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J10.1"}]}}`
	stored := map[string]string{"Condition/c1": v2, "Condition/c1/_history/1": v1, "Condition/c1/_history/2": v2}
	var asked []string
	fetch := func(ts []labels.Target) ([][]byte, error) {
		var out [][]byte
		for _, t := range ts {
			k := t.Key()
			if t.Version != "" {
				k += "/_history/" + t.Version
			}
			asked = append(asked, k)
			if b, ok := stored[k]; ok {
				out = append(out, []byte(b))
			}
		}
		return out, nil
	}
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	label := func(ref string) labels.Result {
		b := l.NewBatch()
		var r labels.Result
		if err := b.AddValid([]byte(order(ref)), &r); err != nil {
			t.Fatal(err)
		}
		if err := b.Resolve(fetch); err != nil {
			t.Fatal(err)
		}
		b.Finish()
		return r
	}
	for round := range 2 {
		asked = nil
		if r := label("Condition/c1/_history/1"); !r.Labels.Has(labels.SUD) {
			t.Errorf("round %d: an order naming the SUD version: %v", round, r.Labels)
		}
		if !slices.Contains(asked, "Condition/c1/_history/1") {
			t.Errorf("round %d: asked %v, want the SUD version read", round, asked)
		}
		asked = nil
		if r := label("Condition/c1/_history/2"); r.Labels.Has(labels.SUD) {
			t.Errorf("round %d: an order naming the ordinary version: %v", round, r.Labels)
		}
		if round == 1 && len(asked) > 0 {
			t.Errorf("round 1: asked %v, want the ordinary version known", asked)
		}
	}
}

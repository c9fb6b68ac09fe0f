package labels_test

import (
	"slices"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 18: SetRules left the label cache as it was, so a target known
// to pass nothing on under the old rules stayed so for referrers until
// known_ttl, and a target held with labels kept them, with no TTL.

func hasCode(r labels.Result, code string) bool {
	for _, l := range r.Labels {
		if l.Code == code {
			return true
		}
	}
	return false
}

func TestSetRulesForgetsKnownOrdinary(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	cond := `{"resourceType":"Condition","id":"c9","code":{"coding":[{"system":"http://snomed.info/sct","code":"999001"}]}}`
	out := labelResolving(t, l, newUpstream(cond), order("Condition/c9"))
	if hasCode(out[0], "SUD") {
		t.Fatal("SUD before the code was made SUD")
	}
	// Compliance makes the code SUD.
	if err := l.SetRules(append(labels.DefaultRules(), labels.Rule{ID: "x", System: "http://snomed.info/sct", Codes: []string{"999001"}, Labels: []labels.Label{labels.SUD, labels.Restricted}})); err != nil {
		t.Fatal(err)
	}
	u := newUpstream(cond)
	out = labelResolving(t, l, u, order("Condition/c9"))
	if !hasCode(out[0], "SUD") {
		t.Errorf("after the rules made the reason SUD the order is not SUD (fetched %v): the cache still knew the reason as ordinary", u.askedFor())
	}
}

func TestSetRulesRefreshesCachedLabels(t *testing.T) {
	t.Parallel()
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	psy := labels.Label{System: labels.SystemActCode, Code: "PSYTHPN"}
	v := labels.Label{System: labels.SystemConfidentiality, Code: "V"}
	rules := func(ls ...labels.Label) []labels.Rule {
		return append(labels.DefaultRules(), labels.Rule{ID: "x", System: "http://example.org/notes", Codes: []string{"psy-note"}, Labels: ls})
	}
	l, err := labels.NewLabeller(labels.Options{Rules: rules(mh, labels.Restricted), CacheSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"resourceType":"DocumentReference","id":"d1","meta":{"versionId":"1"},"type":{"coding":[{"system":"http://example.org/notes","code":"psy-note"}]}}`
	ref := `{"resourceType":"Communication","id":"k1","payload":[{"contentReference":{"reference":"DocumentReference/d1"}}]}`
	out := labelResolving(t, l, newUpstream(doc), ref)
	if !hasCode(out[0], "MH") {
		t.Fatalf("old rules: referrer %v, want MH", out[0].Labels)
	}
	if err := l.SetRules(rules(psy, v)); err != nil {
		t.Fatal(err)
	}
	// Without a fetcher, a stale entry still passes its old labels on:
	// they are a floor until the target is labelled again.
	b := l.NewBatch()
	var r labels.Result
	if err := b.AddValid([]byte(ref), &r); err != nil {
		t.Fatal(err)
	}
	b.Finish()
	if !hasCode(r, "MH") {
		t.Errorf("a stale entry no longer passes its labels on: %v", r.Labels)
	}
	u := newUpstream(doc)
	out = labelResolving(t, l, u, ref)
	if !slices.Contains(u.askedFor(), "DocumentReference/d1") {
		t.Errorf("the target labelled under the old rules was not fetched again: asked %v", u.askedFor())
	}
	if !hasCode(out[0], "PSYTHPN") || !hasCode(out[0], "V") {
		t.Errorf("new rules: referrer %v, want PSYTHPN and V", out[0].Labels)
	}
	// Labelled again, the entry is fresh: not fetched once more.
	u = newUpstream(doc)
	out = labelResolving(t, l, u, ref)
	if len(u.askedFor()) != 0 || !hasCode(out[0], "PSYTHPN") {
		t.Errorf("after the refresh: asked %v, labels %v", u.askedFor(), out[0].Labels)
	}
}

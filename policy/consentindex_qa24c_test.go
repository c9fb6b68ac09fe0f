package policy

import (
	"reflect"
	"testing"
)

// TestQA24CConsentIndexFromGoValues: a *Consent's index, built from its Go
// values since QA round 24 (consentRuleIndex), is the index the generic
// path builds from its terms (ruleIndex) where the random consents of
// TestConsentFormMatchesGeneric do not reach: an actor named twice in a
// level (listed once per rule), actors first named below the root, one
// actor in several rules, a rule naming none, and a rule without
// conditions; and its criteria are the ones found in the terms.
func TestQA24CConsentIndexFromGoValues(t *testing.T) {
	a, b, c := "Organization/org-a", "Organization/org-b", "urn:oid:1|c"
	c1 := &Consent{ID: "c1", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
		Rules: []ConsentRule{
			{Path: "provision", Depth: 0, Type: "deny", Conditions: []ConsentCond{{}}},
			{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []ConsentCond{{}, {Actors: []string{b, a, b}, Purposes: []string{"TREAT"}}}},
			{Path: "provision.provision[1]", Depth: 1, Type: "deny", Conditions: []ConsentCond{{Purposes: []string{"HMARKT"}}, {Actors: []string{c, a}}, {Actors: []string{b}}}},
			{Path: "provision.provision[2]", Depth: 1, Type: "permit"},
			{Path: "provision.provision[3]", Depth: 1, Type: "permit", Conditions: []ConsentCond{{}, {Labels: []string{"x"}}, {Actors: []string{a, a}}}},
		},
	}
	for _, index := range []bool{true, false} {
		got, err := newConsentSet([]any{c1}, "Patient/p1", index)
		if err != nil {
			t.Fatal(err)
		}
		want, err := newConsentSet([]any{(*plainConsent)(c1)}, "Patient/p1", index)
		if err != nil {
			t.Fatal(err)
		}
		if got.value.Compare(want.value) != 0 {
			t.Fatalf("index %v:\n got  %v\n want %v", index, got.value, want.value)
		}
		if !reflect.DeepEqual(got.criteria, want.criteria) || len(got.criteria) != 3 {
			t.Fatalf("criteria %v, want %v", got.criteria, want.criteria)
		}
	}
}

// TestQA24CConsentSetAllocations: converting a one-provision Part 2
// consent (a cold Bundle converts one per patient with consents) costs 104
// allocations since its criteria and index come from its Go values (110
// when the index was built with maps from the terms and the criteria by
// walking them). A change that adds to it should say why in its commit.
func TestQA24CConsentSetAllocations(t *testing.T) {
	named := ConsentCond{Actors: []string{"Organization/org-a"}, Purposes: []string{"TREAT", "HPAYMT"}}
	c := &Consent{ID: "c1", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
		Rules: []ConsentRule{{Path: "provision", Depth: 0, Type: "deny", Conditions: []ConsentCond{{}}},
			{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []ConsentCond{{}, named}}}}
	consents := []any{c}
	got := testing.AllocsPerRun(100, func() {
		if cs, err := newConsentSet(consents, "Patient/p1", true); err != nil || len(cs.criteria) != 2 {
			t.Fatal(cs, err)
		}
	})
	if got > 105 {
		t.Errorf("a consent's policy form costs %v allocations, want at most 105", got)
	}
}

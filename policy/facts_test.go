package policy_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// optInExcept is an opt-in consent of Patient/p1 with one deny exception.
func optInExcept(x map[string]any) map[string]any {
	return map[string]any{
		"id": "c-optin", "version": "1", "status": "active", "patient": "Patient/p1",
		"policies": []any{"OPTIN"}, "start_ns": 0, "end_ns": 0,
		"rules": []any{
			map[string]any{"path": "provision", "depth": 0, "type": "permit", "conditions": []any{cond(nil)}},
			map[string]any{"path": "provision.provision[0]", "depth": 1, "type": "deny", "conditions": []any{cond(nil), cond(x)}},
		},
	}
}

func ordinaryInput(consent map[string]any, facts *policy.ItemFacts) policy.Input {
	in := sudInput("Organization/org-b", "TREAT")
	in.Item.Labels = []string{}
	in.Item.Facts = facts
	in.Consents = []any{consent}
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c-optin", Version: "1"}})
	return in
}

// TestItemFactsSplitCachedDecisions: with facts, items of one type and
// label set get their own decisions, and the cache keeps them apart.
func TestItemFactsSplitCachedDecisions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := newEngine(t)
	c := optInExcept(map[string]any{"codes": []any{"http://snomed.info/sct|5602001"}})
	for range 2 { // the second round answers from the cache
		coded := ordinaryInput(c, &policy.ItemFacts{Codes: []string{"http://snomed.info/sct|5602001"}, Reference: "Condition/c1"})
		if d, err := eng.Decide(ctx, coded); err != nil || d.Permitted() {
			t.Fatalf("item with the denied code: %+v, %v", d, err)
		}
		other := ordinaryInput(c, &policy.ItemFacts{Codes: []string{"http://snomed.info/sct|1"}, Reference: "Condition/c2"})
		if d, err := eng.Decide(ctx, other); err != nil || !d.Permitted() {
			t.Fatalf("item with another code: %+v, %v", d, err)
		}
		if d, err := eng.Decide(ctx, ordinaryInput(c, nil)); err != nil || d.Permitted() {
			t.Fatalf("item without facts must be read protectively: %+v, %v", d, err)
		}
	}
}

// TestDataRefsMakeDataPrecise: the normaliser lists provision.data both
// without (data) and with its meaning (data_refs); the engine reads the
// meaning, so a deny of one instance leaves other resources.
func TestDataRefsMakeDataPrecise(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := newEngine(t)
	c := optInExcept(map[string]any{
		"data":      []any{"Condition/c9"},
		"data_refs": []any{map[string]any{"reference": "Condition/c9", "meaning": "instance"}},
	})
	if d, err := eng.Decide(ctx, ordinaryInput(c, &policy.ItemFacts{Codes: []string{}, Reference: "Condition/c9"})); err != nil || d.Permitted() {
		t.Fatalf("the denied resource: %+v, %v", d, err)
	}
	if d, err := eng.Decide(ctx, ordinaryInput(c, &policy.ItemFacts{Codes: []string{}, Reference: "Condition/c1"})); err != nil || !d.Permitted() {
		t.Fatalf("another resource: %+v, %v", d, err)
	}
	onlyData := optInExcept(map[string]any{"data": []any{"Condition/c9"}})
	onlyData["version"] = "2"
	in := ordinaryInput(onlyData, &policy.ItemFacts{Codes: []string{}, Reference: "Condition/c1"})
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c-optin", Version: "2"}})
	if d, err := eng.Decide(ctx, in); err != nil || d.Permitted() {
		t.Fatalf("data without its meaning must be read protectively: %+v, %v", d, err)
	}
}

// TestConsentIndexChangesNoDecision: the per-patient consent index only
// skips rules that cannot match; decisions with and without it are equal.
func TestConsentIndexChangesNoDecision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	indexed := newEngine(t, policy.WithDecisionCache(0))
	plain := newEngine(t, policy.WithDecisionCache(0), policy.WithConsentIndex(false))
	rng := rand.New(rand.NewPCG(11, 3))
	for i := range 600 {
		in := randomInput(rng)
		if rng.IntN(2) == 0 {
			in.Consents = append(in.Consents, manyConsents(5)...)
			in.ConsentKey = ""
		}
		want, err := plain.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := indexed.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: indexed %+v, plain %+v", i, got, want)
		}
	}
}

// manyConsents are n Part 2 consents of Patient/p1, each for another
// organisation (org-0, org-1, ...): deny all, permit the organisation for
// treatment, except mental health and one code.
func manyConsents(n int) []any {
	out := make([]any, n)
	for i := range n {
		org := fmt.Sprintf("Organization/org-%d", i)
		out[i] = map[string]any{
			"id": fmt.Sprintf("m%d", i), "version": "1", "status": "active", "patient": "Patient/p1",
			"policies": []any{"42CFRPart2"}, "start_ns": 0, "end_ns": 0,
			"rules": []any{
				map[string]any{"path": "provision", "depth": 0, "type": "deny", "conditions": []any{cond(nil)}},
				map[string]any{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": []any{
					cond(nil), cond(map[string]any{"actors": []any{org}, "purposes": []any{"TREAT", "HPAYMT"}}),
				}},
				map[string]any{"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny", "conditions": []any{
					cond(nil), cond(map[string]any{"actors": []any{org}, "purposes": []any{"TREAT", "HPAYMT"}}),
					cond(map[string]any{"labels": []any{act + "PSY"}}),
				}},
				map[string]any{"path": "provision.provision[1]", "depth": 1, "type": "deny", "conditions": []any{
					cond(nil), cond(map[string]any{"purposes": []any{"HMARKT"}}),
				}},
			},
		}
	}
	return out
}

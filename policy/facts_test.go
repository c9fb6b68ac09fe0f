package policy_test

import (
	"context"
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

package policy

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/rego"
)

// The default policy reads the item's type only in the clauses of the
// "classes" criterion.
func TestDefaultPolicyReadsTypeOnlyForClasses(t *testing.T) {
	t.Parallel()
	res, err := loadTree(rego.FS(), false)
	if err != nil {
		t.Fatal(err)
	}
	r := inputReads(res.ParsedModules())
	if r.typeElsewhere || !reflect.DeepEqual(slices.Sorted(maps.Keys(r.typeCriteria)), []string{"classes"}) {
		t.Fatalf("type criteria %v, read elsewhere %v", r.typeCriteria, r.typeElsewhere)
	}
}

// Decisions are shared across types only when neither the policy nor the
// patient's consents make the type matter.
func TestTypeBlindSharing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	base := Input{
		Caller:  Caller{Subject: "u", Org: "Organization/org-a", Purposes: []string{"TREAT"}},
		Request: Request{Interaction: "search", Type: "Condition", TimeNS: 1767225600000000000},
		Patient: "Patient/p1",
		Item:    Item{Type: "Condition", Labels: []string{act + "SUD", act + "42CFRPart2"}},
	}
	level := func(x map[string]any) map[string]any { return x }
	tpo := map[string]any{
		"id": "c1", "version": "1", "status": "active", "patient": "Patient/p1", "policies": []any{}, "start_ns": 0, "end_ns": 0,
		"rules": []any{
			map[string]any{"path": "provision", "depth": 0, "type": "deny", "conditions": []any{level(map[string]any{})}},
			map[string]any{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": []any{
				level(map[string]any{"actors": []any{"Organization/org-a"}, "purposes": []any{"TREAT"}}),
			}},
		},
	}
	obsOnly := map[string]any{
		"id": "c2", "version": "1", "status": "active", "patient": "Patient/p1", "policies": []any{}, "start_ns": 0, "end_ns": 0,
		"rules": []any{
			map[string]any{"path": "provision", "depth": 0, "type": "deny", "conditions": []any{level(map[string]any{})}},
			map[string]any{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": []any{
				level(map[string]any{"actors": []any{"Organization/org-a"}, "purposes": []any{"TREAT"}, "classes": []any{"Observation"}}),
			}},
		},
	}
	decideBoth := func(eng *Engine, in Input) (cond, obs Decision, evals int64) {
		t.Helper()
		before := eng.evals.Load()
		in.Item.Type = "Condition"
		cond = decide(t, eng, in)
		in.Item.Type = "Observation"
		obs = decide(t, eng, in)
		return cond, obs, eng.evals.Load() - before
	}

	eng := mustEngine(t)
	in := base
	in.Consents, in.ConsentKey = []any{tpo}, "tpo"
	cond, obs, n := decideBoth(eng, in)
	if n != 1 || !cond.Permitted() || !reflect.DeepEqual(cond, obs) {
		t.Fatalf("consent naming no class: %d evaluations, %+v / %+v", n, cond, obs)
	}
	in.Consents, in.ConsentKey = []any{obsOnly}, "obs-only"
	cond, obs, n = decideBoth(eng, in)
	if n != 2 || cond.Permitted() || !obs.Permitted() {
		t.Fatalf("consent naming a class: %d evaluations, Condition %s, Observation %s", n, cond.Effect, obs.Effect)
	}

	// A policy reading the type elsewhere gets a decision per type.
	typed := fstest.MapFS{"ds4p/main.rego": {Data: []byte(`package ds4p

default decision := {"effect": "deny", "reasons": []}

decision := {"effect": "permit", "reasons": []} if input.item.type == "Observation"
`)}}
	eng, err := New(ctx, typed)
	if err != nil {
		t.Fatal(err)
	}
	in = base
	in.Consents, in.ConsentKey = []any{}, ConsentKey(nil)
	cond, obs, n = decideBoth(eng, in)
	if n != 2 || cond.Permitted() || !obs.Permitted() {
		t.Fatalf("policy reading the type: %d evaluations, Condition %s, Observation %s", n, cond.Effect, obs.Effect)
	}
}

// TestTypeBlindMatchesFresh decides every matrix input for its own type and
// for two others with a caching engine, consents and all, and compares each
// answer with an engine that caches nothing.
func TestTypeBlindMatchesFresh(t *testing.T) {
	t.Parallel()
	sets, err := LoadCases(rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	cached, fresh := mustEngine(t), mustEngine(t, WithDecisionCache(0))
	n := 0
	for _, set := range sets {
		for _, c := range set.Cases {
			in := c.Input
			in.ConsentKey = fmt.Sprintf("case-%d", n)
			n++
			for _, typ := range []string{in.Item.Type, "Observation", "Condition", "DocumentReference"} {
				in.Item.Type = typ
				if got, want := decide(t, cached, in), decide(t, fresh, in); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s as %s: cached %+v, fresh %+v", c.Name, typ, got, want)
				}
			}
		}
	}
}

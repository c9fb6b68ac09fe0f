package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/internal/regovm"
	"github.com/ds4p/ds4p/rego"
)

func TestDefaultPolicyRunsOnTheInterpreter(t *testing.T) {
	t.Parallel()
	eng := mustEngine(t)
	if s := eng.Status().Evaluator; s != EvaluatorIR {
		t.Fatalf("evaluator %q, want %q", s, EvaluatorIR)
	}
	p := eng.cur.Load()
	if p.vm == nil || p.vm.fixed == nil {
		t.Fatal("the default policy's decision or fixed verdicts are not interpreted")
	}
	td := mustEngine(t, WithEvaluator(EvaluatorTopdown))
	if s := td.Status().Evaluator; !strings.HasPrefix(s, EvaluatorTopdown+": ") || td.cur.Load().vm != nil {
		t.Fatalf("WithEvaluator(topdown): evaluator %q", s)
	}
	if _, err := New(context.Background(), rego.FS(), WithEvaluator("wasm")); err == nil {
		t.Fatal("an unknown evaluator was accepted")
	}
}

// TestInterpreterMatchesTopdown decides every input of the case matrix,
// under each case set's policy data, in brief and full form, plain and
// with fixed verdicts, and a random grid of callers, consents and classes,
// with the interpreter and with OPA's evaluator, and requires the same
// decision every time.
func TestInterpreterMatchesTopdown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sets, err := LoadCases(rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	effects := map[string]int{}
	n := 0
	compare := func(ir, td *Engine, in Input, what string) {
		t.Helper()
		want, werr := td.Decide(ctx, in)
		got, gerr := ir.Decide(ctx, in)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: interpreter %+v (%v), topdown %+v (%v)", what, got, gerr, want, werr)
		}
		effects[got.Effect]++
		n++
	}
	for _, set := range sets {
		tree, err := withData(rego.FS(), set.Data)
		if err != nil {
			t.Fatal(err)
		}
		ir, err := New(ctx, tree, WithDecisionCache(0))
		if err != nil {
			t.Fatal(err)
		}
		if ir.cur.Load().vm == nil {
			t.Fatalf("%s: the interpreter does not serve: %s", set.File, ir.Status().Evaluator)
		}
		td, err := New(ctx, tree, WithDecisionCache(0), WithEvaluator(EvaluatorTopdown))
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range set.Cases {
			for _, brief := range []bool{false, true} {
				in := c.Input
				in.Brief = brief
				in.ConsentKey = fmt.Sprintf("%s-%d-%v", set.File, i, brief)
				// Twice: the second decision of a context uses its fixed verdicts.
				compare(ir, td, in, c.Name)
				compare(ir, td, in, c.Name+" (fixed verdicts)")
			}
		}
	}
	ir, td := mustEngine(t, WithDecisionCache(0)), mustEngine(t, WithDecisionCache(0), WithEvaluator(EvaluatorTopdown))
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	labelSets := [][]string{
		{}, {act + "SUD"}, {act + "SUD", act + "42CFRPart2"}, {act + "PSY"}, {act + "HIV", act + "SUD"},
		{act + "42CFRPart2", act + "PSYTHPN"}, {"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V"}, {"x|unknown"},
	}
	rng := rand.New(rand.NewPCG(5, 11))
	orgs := []string{"Organization/org-a", "Organization/org-b"}
	purposes := [][]string{{"TREAT"}, {"HPAYMT"}, {}, {"HMARKT"}, {"ETREAT"}, {"TREAT", "HOPERAT"}, {"NOPE"}}
	for ctxN := range 300 {
		base := Input{
			Caller:  Caller{Subject: "u", Org: orgs[rng.IntN(2)], Purposes: purposes[rng.IntN(len(purposes))]},
			Request: Request{Interaction: "search", Type: "Condition", TimeNS: 1767225600000000000 + int64(rng.IntN(3))*1e12},
			Patient: "Patient/p1",
			Brief:   rng.IntN(2) == 0,
		}
		if rng.IntN(3) == 0 {
			base.Caller.BreakGlass = &BreakGlass{Reason: "cardiac arrest", IssuedAt: base.Request.TimeNS/1e9 - 10, ExpiresAt: base.Request.TimeNS/1e9 + int64(rng.IntN(2))*86400 + 600}
		}
		for i := range rng.IntN(4) {
			base.Consents = append(base.Consents, map[string]any{
				"id": fmt.Sprintf("c%d", i), "version": "1", "status": []string{"active", "active", "inactive"}[rng.IntN(3)], "patient": "Patient/p1",
				"policies": []any{[]string{"42CFRPart2", "OPTOUT", "OPTIN"}[rng.IntN(3)]},
				"start_ns": 0, "end_ns": []int64{0, 1767225600000000000 + 1e12}[rng.IntN(2)],
				"rules": []any{
					map[string]any{"path": "provision", "depth": 0, "type": []string{"deny", "permit"}[rng.IntN(2)], "conditions": []any{map[string]any{}}},
					map[string]any{"path": "provision.provision[0]", "depth": 1, "type": []string{"deny", "permit"}[rng.IntN(2)], "conditions": []any{
						map[string]any{}, map[string]any{
							"actors":   []any{orgs[rng.IntN(2)]},
							"purposes": []any{"TREAT", "HPAYMT"},
							"labels":   []any{[]string{act + "PSYTHPN", act + "SUD", act + "HIV"}[rng.IntN(3)]},
						},
					}},
				},
			})
		}
		base.ConsentKey = fmt.Sprintf("ctx-%d", ctxN)
		for k := range 6 {
			in := base
			in.Item = Item{Type: []string{"Condition", "Observation"}[rng.IntN(2)], Labels: labelSets[rng.IntN(len(labelSets))]}
			if rng.IntN(4) == 0 {
				in.Item.Source = "part2"
			}
			compare(ir, td, in, fmt.Sprintf("random context %d class %d", ctxN, k))
		}
	}
	if effects[Permit] < 200 || effects[Deny] < 200 {
		t.Fatalf("effects %v over %d decisions: the comparison covers too little", effects, n)
	}
	t.Logf("%d decisions compared: %v", n, effects)
}

// A revision the interpreter cannot run is evaluated by topdown, and says so.
func TestUnsupportedPolicyFallsBackToTopdown(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"ds4p/main.rego": {Data: []byte(`package ds4p

decision := d if {
	d := base with input.item.type as "Patient"
}

base := {"effect": "permit", "obligations": [], "notices": [], "break_glass": false, "reasons": [{"rule": input.item.type}]}
`)}}
	eng, err := New(context.Background(), fsys, WithDecisionCache(0))
	if err != nil {
		t.Fatal(err)
	}
	if s := eng.Status().Evaluator; !strings.HasPrefix(s, "topdown: ") || !strings.Contains(s, "with") {
		t.Fatalf("evaluator %q, want topdown naming the with statement", s)
	}
	d, err := eng.Decide(context.Background(), Input{Item: Item{Type: "Condition"}})
	if err != nil || d.Effect != Permit || d.Reasons[0].Rule != "Patient" {
		t.Fatalf("decision %+v, %v", d, err)
	}
}

// The load-time cross-check catches an interpreter that answers
// differently: here, programs planned from another policy.
func TestCrossCheckCatchesADifference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, err := compile(ctx, rego.FS(), "data.ds4p.decision")
	if err != nil {
		t.Fatal(err)
	}
	vm, why := prepareVM(ctx, rego.FS(), "", c, "data.ds4p.decision")
	if vm == nil {
		t.Fatalf("the default policy fails its own cross-check: %s", why)
	}
	other := copyTree(t, rego.FS())
	other["ds4p/main.rego"] = &fstest.MapFile{Data: replaceOnceIn(t, other["ds4p/main.rego"].Data,
		"} else := emergency_decision if {", "} else := ordinary_decision if {")}
	oc, err := compile(ctx, other, "data.ds4p.decision")
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := regovm.Compile(ctx, vmQueryVar+" := data.ds4p.decision", vmQueryVar, oc.modules, oc.data)
	if err != nil {
		t.Fatal(err)
	}
	vm.decision = wrong
	if why := vm.crossCheck(ctx, rego.FS(), c); !strings.Contains(why, "differs from topdown") {
		t.Fatalf("cross-check of a wrong program: %q", why)
	}
}

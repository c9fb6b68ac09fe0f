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
	rng := rand.New(rand.NewPCG(5, 11))
	for ctxN := range 300 {
		base := randomContext(rng, ctxN)
		for k := range 6 {
			in := base
			in.Item = randomClass(rng)
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

// FuzzInterpreterMatchesTopdown builds a decision input from the fuzzer's
// bytes (caller, purposes, break-the-glass, up to three consents with
// nested provisions naming actors, purposes, labels, classes, codes and
// periods, the item's labels, type, source and facts) and requires the
// interpreter's decision to equal topdown's.
func FuzzInterpreterMatchesTopdown(f *testing.F) {
	for _, seed := range []string{"", "\x01\x02\x03", "\xff\x00\xff\x10\x20\x30\x40", "part2 consent with labels and codes"} {
		f.Add([]byte(seed))
	}
	ctx := context.Background()
	ir, err := New(ctx, rego.FS(), WithDecisionCache(0))
	if err != nil {
		f.Fatal(err)
	}
	td, err := New(ctx, rego.FS(), WithDecisionCache(0), WithEvaluator(EvaluatorTopdown))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in := fuzzInput(b)
		want, werr := td.Decide(ctx, in)
		got, gerr := ir.Decide(ctx, in)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("input %+v: interpreter %+v (%v), topdown %+v (%v)", in, got, gerr, want, werr)
		}
	})
}

// fuzzInput decodes b into a policy input; every byte sequence gives one.
func fuzzInput(b []byte) Input {
	next := func() int {
		if len(b) == 0 {
			return 0
		}
		v := int(b[0])
		b = b[1:]
		return v
	}
	pick := func(opts ...string) string { return opts[next()%len(opts)] }
	some := func(opts ...string) []any {
		var out []any
		mask := next()
		for i, o := range opts {
			if mask&(1<<i) != 0 {
				out = append(out, o)
			}
		}
		return out
	}
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	const conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|"
	const now = int64(1767225600000000000)
	var purposes []string
	for _, p := range some("TREAT", "HPAYMT", "HOPERAT", "ETREAT", "HMARKT", "PUBHLTH", "NOPE") {
		purposes = append(purposes, p.(string))
	}
	in := Input{
		Caller: Caller{
			Subject: "Practitioner/u", Org: pick("Organization/org-a", "Organization/org-b", ""),
			OrgIdentifiers: []string{pick("urn:oid:1|a", "urn:oid:1|b")}, Purposes: purposes,
		},
		Request: Request{Interaction: pick("read", "search"), Type: pick("Observation", "Condition"), TimeNS: now},
		Patient: "Patient/p1",
		Brief:   next()%2 == 0,
	}
	if next()%3 == 0 {
		iat := now/1e9 - int64(next()*10)
		in.Caller.BreakGlass = &BreakGlass{Reason: pick("cardiac arrest", ""), IssuedAt: iat, ExpiresAt: iat + int64(next()*60)}
	}
	for i := range next() % 4 {
		var rules []any
		for d := range 1 + next()%3 {
			cond := map[string]any{}
			if next()%2 == 0 {
				cond["actors"] = some("Organization/org-a", "Organization/org-b", "urn:oid:1|a")
			}
			if next()%2 == 0 {
				cond["purposes"] = some("TREAT", "HPAYMT", "HOPERAT", "ETREAT")
			}
			if next()%2 == 0 {
				cond["labels"] = some(act+"PSYTHPN", act+"SUD", act+"HIV", conf+"R", act+"42CFRPart2")
			}
			if next()%3 == 0 {
				cond["classes"] = some("Observation", "Condition", "MedicationRequest")
			}
			if next()%4 == 0 {
				cond["codes"] = some("http://snomed.info/sct|1", "http://loinc.org|2")
			}
			if next()%4 == 0 {
				cond["data_refs"] = some("Observation/o1", "Observation/o2")
			}
			if next()%4 == 0 {
				cond["data_start_ns"], cond["data_end_ns"] = now-2e12, []int64{0, now}[next()%2]
			}
			if next()%4 == 0 {
				cond["start_ns"], cond["end_ns"] = []int64{0, now - 1}[next()%2], []int64{0, now + 1}[next()%2]
			}
			if next()%4 == 0 {
				cond["actions"] = some("disclose", "access", "use")
			}
			conds := []any{}
			for range d + 1 {
				conds = append(conds, cond)
			}
			path := "provision"
			for range d {
				path += ".provision[0]"
			}
			rules = append(rules, map[string]any{"path": path, "depth": d, "type": pick("permit", "deny"), "conditions": conds})
		}
		in.Consents = append(in.Consents, map[string]any{
			"id": fmt.Sprintf("c%d", i), "version": "1", "status": pick("active", "active", "inactive", "draft"), "patient": "Patient/p1",
			"policies": some("42CFRPart2", "OPTOUT", "OPTIN", "HIPAA-Auth"),
			"start_ns": []int64{0, now - 1e12, now + 1e12}[next()%3], "end_ns": []int64{0, now + 1e12, now - 1}[next()%3],
			"rules": rules,
		})
	}
	in.ConsentKey = ""
	var labels []string
	for _, l := range some(act+"SUD", act+"42CFRPart2", act+"PSY", act+"HIV", act+"PSYTHPN", conf+"R", conf+"V", act+"ETH") {
		labels = append(labels, l.(string))
	}
	in.Item = Item{Type: pick("Observation", "Condition", "MedicationRequest"), Labels: labels, Source: pick("", "", "part2")}
	if next()%3 == 0 {
		ts := now - int64(next())*1e12
		in.Item.Facts = &ItemFacts{Codes: []string{pick("http://snomed.info/sct|1", "http://loinc.org|2")}, Reference: "Observation/o1", TimeNS: &ts}
	}
	return in
}

// BenchmarkEvaluator is the evaluators alone: the same input document,
// built once, evaluated by the interpreter and by topdown (what Decide adds
// around them, input building, decoding and caching, is in BenchmarkDecide).
func BenchmarkEvaluator(b *testing.B) {
	ctx := context.Background()
	eng := mustEngine(b, WithDecisionCache(0))
	p := eng.cur.Load()
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	consent := map[string]any{
		"id": "c1", "version": "1", "status": "active", "patient": "Patient/p1", "policies": []any{"42CFRPart2"}, "start_ns": 0, "end_ns": 0,
		"rules": []any{map[string]any{"path": "provision", "depth": 0, "type": "permit", "conditions": []any{
			map[string]any{"actors": []any{"Organization/org-a"}, "purposes": []any{"TREAT", "HPAYMT", "HOPERAT"}}}}},
	}
	for _, c := range []struct {
		name   string
		labels []string
	}{{"ordinary", nil}, {"part2-consented", []string{act + "42CFRPart2", act + "SUD"}}} {
		in := Input{
			Caller:  Caller{Subject: "u", Org: "Organization/org-a", Purposes: []string{"TREAT"}},
			Request: Request{Interaction: "search", Type: "Observation", TimeNS: 1767225600000000000},
			Patient: "Patient/p1", Consents: []any{consent}, Item: Item{Type: "Observation", Labels: c.labels}, Brief: true,
		}
		cs, err := newConsentSet(in.Consents, in.Patient, true)
		if err != nil {
			b.Fatal(err)
		}
		val := in.value(cs.value, nil, nil)
		b.Run(c.name+"/ir", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v, err := p.vm.decision.Eval(ctx, val, vmOptions); err != nil || v == nil {
					b.Fatal(v, err)
				}
			}
		})
		b.Run(c.name+"/topdown", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if v, err := topdownValue(ctx, p.eval, val); err != nil || v == nil {
					b.Fatal(v, err)
				}
			}
		})
	}
}

// randomContext draws a response context: caller, purposes, break-the-glass
// (sometimes outside its time box), and up to three consents, active or
// not, whose nested provisions name actors, purposes and labels.
func randomContext(rng *rand.Rand, n int) Input {
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	orgs := []string{"Organization/org-a", "Organization/org-b"}
	purposes := [][]string{{"TREAT"}, {"HPAYMT"}, {}, {"HMARKT"}, {"ETREAT"}, {"TREAT", "HOPERAT"}, {"NOPE"}}
	in := Input{
		Caller:  Caller{Subject: "u", Org: orgs[rng.IntN(2)], Purposes: purposes[rng.IntN(len(purposes))]},
		Request: Request{Interaction: "search", Type: "Condition", TimeNS: 1767225600000000000 + int64(rng.IntN(3))*1e12},
		Patient: "Patient/p1",
		Brief:   rng.IntN(2) == 0,
	}
	if rng.IntN(3) == 0 {
		in.Caller.BreakGlass = &BreakGlass{Reason: "cardiac arrest", IssuedAt: in.Request.TimeNS/1e9 - 10, ExpiresAt: in.Request.TimeNS/1e9 + int64(rng.IntN(2))*86400 + 600}
	}
	for i := range rng.IntN(4) {
		in.Consents = append(in.Consents, map[string]any{
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
	in.ConsentKey = fmt.Sprintf("ctx-%d", n)
	return in
}

// randomClass draws a decision class: type, label set, source.
func randomClass(rng *rand.Rand) Item {
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	labelSets := [][]string{
		{}, {act + "SUD"}, {act + "SUD", act + "42CFRPart2"}, {act + "PSY"}, {act + "HIV", act + "SUD"},
		{act + "42CFRPart2", act + "PSYTHPN"}, {"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V"}, {"x|unknown"},
	}
	it := Item{Type: []string{"Condition", "Observation"}[rng.IntN(2)], Labels: labelSets[rng.IntN(len(labelSets))]}
	if rng.IntN(4) == 0 {
		it.Source = "part2"
	}
	return it
}

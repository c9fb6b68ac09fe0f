package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/rego"
	"github.com/open-policy-agent/opa/v1/ast"
)

// TestFixedVerdictsChangeNoDecision decides every input of the case matrix
// (consents of every kind: labels, classes, codes, data, periods, actors,
// designations, break-the-glass) with an engine that shares fixed verdicts
// and one that does not, and requires the same decision. Each input is
// decided twice by the sharing engine: the first decision of a context is
// plain, the second uses the fixed verdicts.
func TestFixedVerdictsChangeNoDecision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sets, err := LoadCases(rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	shared, plain := mustEngine(t, WithDecisionCache(0)), mustEngine(t, WithDecisionCache(0), WithFixedVerdicts(false))
	if s := shared.Status().FixedVerdicts; s != "on" {
		t.Fatalf("the default policy does not share fixed verdicts: %s", s)
	}
	n, withVerdict := 0, 0
	for _, set := range sets {
		for _, c := range set.Cases {
			in := c.Input
			in.ConsentKey = fmt.Sprintf("case-%d", n)
			n++
			want, err := plain.Decide(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			p := shared.cur.Load()
			cs, err := shared.consentSet(&in)
			if err != nil {
				t.Fatal(err)
			}
			if ft, _, err := shared.evalFixed(ctx, p, &in, cs, nil); err == nil {
				ft.Value.(ast.Object).Foreach(func(_, v *ast.Term) {
					if v.Value.(ast.Object).Get(ast.InternedTerm("type")).Value.Compare(ast.String("none")) != 0 {
						withVerdict++
					}
				})
			}
			for round := range 2 {
				got, err := shared.Decide(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s round %d: with fixed verdicts %+v, plain %+v", c.Name, round, got, want)
				}
			}
		}
	}
	if withVerdict < 100 {
		t.Fatalf("only %d fixed verdicts that decide something over %d cases: the test compares little", withVerdict, n)
	}
	t.Logf("%d cases, %d fixed verdicts that decide something", n, withVerdict)
	if used := shared.fixedUsed.Load(); used < int64(n)/2 {
		t.Fatalf("fixed verdicts were used in %d of %d second decisions: the test compares little", used, n)
	}
}

// TestFixedVerdictsAcrossClasses: one response context, many decision
// classes (types, label sets, sources), random callers, times and
// consents; every class decided with fixed verdicts equals the plain one.
func TestFixedVerdictsAcrossClasses(t *testing.T) {
	t.Parallel()
	shared, plain := mustEngine(t, WithDecisionCache(0)), mustEngine(t, WithDecisionCache(0), WithFixedVerdicts(false))
	rng := rand.New(rand.NewPCG(3, 9))
	for ctxN := range 150 {
		base := randomContext(rng, ctxN) // vm_test.go
		for k := range 6 {
			in := base
			in.Item = randomClass(rng)
			if got, want := decide(t, shared, in), decide(t, plain, in); !reflect.DeepEqual(got, want) {
				t.Fatalf("context %d class %d %+v: with fixed verdicts %+v, plain %+v", ctxN, k, in.Item, got, want)
			}
		}
	}
	if shared.fixedUsed.Load() == 0 {
		t.Fatal("fixed verdicts were never used")
	}
}

// A policy whose fixed_verdicts reaches input.item is evaluated plainly,
// and so is one without fixed_verdicts.
func TestFixedVerdictsOffWhenTheyReadTheItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fsys := copyTree(t, rego.FS())
	b := fsys["ds4p/consent.rego"].Data
	fsys["ds4p/consent.rego"] = &fstest.MapFile{Data: replaceOnceIn(t, b,
		`permits("roles", _)`,
		`permits("roles", _) if input.item.type != "Patient"`)}
	eng, err := New(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if s := eng.Status().FixedVerdicts; s == "on" || !containsAll(s, "input.item") {
		t.Fatalf("status %q, want off naming input.item", s)
	}
	none := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\"effect\": \"permit\", \"reasons\": []}\n")}}
	eng, err = New(ctx, none)
	if err != nil {
		t.Fatal(err)
	}
	if s := eng.Status().FixedVerdicts; s == "on" {
		t.Fatalf("a policy without fixed_verdicts: status %q", s)
	}
}

func replaceOnceIn(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	if strings.Count(string(b), old) != 1 {
		t.Fatalf("%q not found once", old)
	}
	return []byte(strings.Replace(string(b), old, new, 1))
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// mustEngine is an engine with the default policy.
func mustEngine(t testing.TB, opts ...Option) *Engine {
	t.Helper()
	eng, err := New(context.Background(), rego.FS(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// decide decides in, failing the test on an error.
func decide(t *testing.T, eng *Engine, in Input) Decision {
	t.Helper()
	d, err := eng.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFixedVerdictsAcrossRequests: with the decision cache on, a context's
// fixed verdicts outlive the request that worked them out. Each random
// context (a caller, a break-the-glass claim or none, consents whose
// provisions state only caller criteria and periods, so that their
// verdicts are fixed) is asked about random classes at times before,
// inside and after the consents' and provisions' periods and the claim's
// lifetime, in random order; every decision must equal a plain engine's
// (no fixed verdicts, no decision cache), and fixed verdicts that decide
// something must have been reused at other times than the one they were
// worked out at.
func TestFixedVerdictsAcrossRequests(t *testing.T) {
	t.Parallel()
	shared, plain := mustEngine(t), mustEngine(t, WithDecisionCache(0), WithFixedVerdicts(false))
	rng := rand.New(rand.NewPCG(5, 11))
	const t0 = int64(1767225600000000000)
	bounds := []int64{0, t0 + 5e11, t0 + 1e12}
	orgs := []string{"Organization/org-a", "Organization/org-b"}
	purposes := [][]string{{"TREAT"}, {"HPAYMT"}, {}, {"ETREAT"}, {"TREAT", "HOPERAT"}}
	reusedLater := 0
	for ctxN := range 200 {
		base := Input{
			Caller:  Caller{Subject: "u", Org: orgs[rng.IntN(2)], Purposes: purposes[rng.IntN(len(purposes))]},
			Request: Request{Interaction: "search", Type: "Condition"},
			Patient: "Patient/p1", Brief: rng.IntN(2) == 0, ConsentKey: fmt.Sprintf("ctx-%d", ctxN),
		}
		if rng.IntN(3) == 0 {
			base.Caller.BreakGlass = &BreakGlass{Reason: "cardiac arrest", IssuedAt: t0/1e9 - 10, ExpiresAt: t0/1e9 + 600}
		}
		for i := range 1 + rng.IntN(2) {
			base.Consents = append(base.Consents, map[string]any{
				"id": fmt.Sprintf("c%d", i), "version": "1", "status": "active", "patient": "Patient/p1",
				"policies": []any{[]string{"42CFRPart2", "OPTOUT", "OPTIN"}[rng.IntN(3)]},
				"start_ns": bounds[rng.IntN(2)], "end_ns": bounds[rng.IntN(3)],
				"rules": []any{
					map[string]any{"path": "provision", "depth": 0, "type": []string{"deny", "permit"}[rng.IntN(2)], "conditions": []any{map[string]any{}}},
					map[string]any{"path": "provision.provision[0]", "depth": 1, "type": []string{"deny", "permit"}[rng.IntN(2)], "conditions": []any{
						map[string]any{}, map[string]any{
							"actors": []any{orgs[rng.IntN(2)]}, "purposes": []any{"TREAT", "HPAYMT"},
							"start_ns": bounds[rng.IntN(2)], "end_ns": bounds[rng.IntN(3)],
						},
					}},
				},
			})
		}
		times := []int64{t0 - 20e9, t0, t0 + 1e9, t0 + 599e9, t0 + 601e9, t0 + 5e11 - 1, t0 + 5e11, t0 + 1e12 - 1, t0 + 1e12, t0 + 2e12}
		rng.Shuffle(len(times), func(i, j int) { times[i], times[j] = times[j], times[i] })
		for _, now := range times {
			for k := range 1 + rng.IntN(3) {
				in := base
				in.Request.TimeNS = now
				// Requests of every kind share the context: the default
				// policy's fixed verdicts read neither.
				in.Request.Interaction = []string{"read", "search", "everything"}[rng.IntN(3)]
				in.Request.Type = []string{"Condition", "Observation", "Patient"}[rng.IntN(3)]
				in.Item = randomClass(rng)     // vm_test.go
				ts := int64(rng.IntN(1 << 20)) // a class of its own: the decision cache misses
				in.Item.Facts = &ItemFacts{Codes: []string{}, TimeNS: &ts}
				key := in.fixedKey(false, shared.cur.Load().fixedReads)
				before, _ := shared.cur.Load().contexts.get(key)
				if got, want := decide(t, shared, in), decide(t, plain, in); !reflect.DeepEqual(got, want) {
					t.Fatalf("context %d at %d, class %d %+v: with fixed verdicts %+v, plain %+v", ctxN, now, k, in.Item, got, want)
				}
				after, _ := shared.cur.Load().contexts.get(key)
				if before.term != nil && after.term == before.term && decidesSomething(before.term) {
					reusedLater++
				}
			}
		}
	}
	if reusedLater < 300 {
		t.Fatalf("fixed verdicts that decide something were reused in %d later requests: the test compares little", reusedLater)
	}
	t.Logf("fixed verdicts that decide something reused in %d later requests", reusedLater)
}

// decidesSomething reports fixed verdicts with a verdict other than none.
func decidesSomething(t *ast.Term) bool {
	found := false
	t.Value.(ast.Object).Foreach(func(_, v *ast.Term) {
		if v.Value.(ast.Object).Get(ast.InternedTerm("type")).Value.Compare(ast.String("none")) != 0 {
			found = true
		}
	})
	return found
}

// The default policy's fixed verdicts read the caller, the consents and the
// request time, so a context's key holds no request type or interaction.
// A policy whose verdicts do read the interaction keys on it: consents
// with a role criterion, which this edit makes depend on the interaction,
// decided for reads and searches in turn in one context, must decide as a
// plain engine does.
func TestFixedKeyHoldsWhatTheVerdictsRead(t *testing.T) {
	t.Parallel()
	if r := mustEngine(t).cur.Load().fixedReads; r.has("request.type") || r.has("request.interaction") || !r.has("caller.org") {
		t.Fatalf("the default policy's fixed verdicts read %v", r.fields)
	}
	fsys := copyTree(t, rego.FS())
	fsys["ds4p/consent.rego"].Data = replaceOnceIn(t, fsys["ds4p/consent.rego"].Data,
		`permits("roles", _)`, `permits("roles", _) if input.request.interaction == "read"`)
	ctx := context.Background()
	shared, err := New(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(ctx, fsys, WithDecisionCache(0), WithFixedVerdicts(false))
	if err != nil {
		t.Fatal(err)
	}
	p := shared.cur.Load()
	if p.fixed == nil || !p.fixedReads.has("request.interaction") {
		t.Fatalf("fixed verdicts %q, reads %v", shared.Status().FixedVerdicts, p.fixedReads)
	}
	const t0 = int64(1767225600000000000)
	rng := rand.New(rand.NewPCG(2, 4))
	for ctxN := range 60 {
		in := Input{
			Caller:  Caller{Subject: "u", Org: "Organization/org-a", Purposes: []string{"TREAT"}},
			Request: Request{Type: "Observation", TimeNS: t0}, Patient: "Patient/p1", Brief: true,
			ConsentKey: fmt.Sprintf("roles-%d", ctxN),
			Consents: []any{map[string]any{
				"id": "c1", "version": "1", "status": "active", "patient": "Patient/p1", "policies": []any{"42CFRPart2"},
				"start_ns": 0, "end_ns": 0, "rules": []any{
					map[string]any{"path": "provision", "depth": 0, "type": "deny", "conditions": []any{map[string]any{}}},
					map[string]any{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": []any{
						map[string]any{}, map[string]any{"actors": []any{"Organization/org-a"}, "roles": []any{"x|nurse"}, "purposes": []any{"TREAT"}},
					}},
				},
			}},
		}
		for k := range 8 {
			in.Request.Interaction = []string{"read", "search"}[(k+ctxN)%2]
			in.Item = randomClass(rng)
			ts := int64(k)
			in.Item.Facts = &ItemFacts{Codes: []string{}, TimeNS: &ts}
			if got, want := decide(t, shared, in), decide(t, plain, in); !reflect.DeepEqual(got, want) {
				t.Fatalf("context %d, %s, %+v: with fixed verdicts %+v, plain %+v", ctxN, in.Request.Interaction, in.Item, got, want)
			}
		}
	}
	if shared.fixedUsed.Load() < 100 {
		t.Fatalf("fixed verdicts used %d times: the test compares little", shared.fixedUsed.Load())
	}
}

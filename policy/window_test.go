package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestDecisionReuseFollowsThePolicysTime: a policy author's own use of the
// request time is followed by the decision cache and the fixed verdicts,
// without telling the engine anything. Two edits of the default policy:
//
//   - sunset: ordinary data is disclosed only before a cutoff (a date a
//     rule stops applying); a decision made before it must not be reused
//     after it;
//   - weekday: ordinary data is not disclosed on Sundays; the time goes
//     through a built-in, which the interpreter does not follow, so those
//     decisions hold for their own request time only.
//
// Each engine (decision cache and fixed verdicts on) decides random
// contexts and classes at times in random order on both sides of the
// cutoff and of a Sunday, and must agree with a plain engine (neither)
// every time.
func TestDecisionReuseFollowsThePolicysTime(t *testing.T) {
	t.Parallel()
	const t0 = int64(1767225600000000000) // Thursday 1 January 2026, 00:00 UTC
	const cutoff = t0 + 5e11
	const sunday = t0 + 3*86400e9 + 3600e9
	for _, c := range []struct {
		name, rule string
		off        int64  // a time at which the edit withholds ordinary data
		reuse      string // what Status.DecisionReuse starts with
	}{
		{"sunset", fmt.Sprintf("\tinput.request.time_ns < %d\n", cutoff), cutoff + 1, "across requests, within"},
		{"weekday", "\ttime.weekday(input.request.time_ns) != \"Sunday\"\n", sunday, "across requests, except"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := copyTree(t, rego.FS())
			fsys["ds4p/ordinary.rego"].Data = replaceOnceIn(t, fsys["ds4p/ordinary.rego"].Data,
				"ordinary_allowed if {\n", "ordinary_allowed if {\n"+c.rule)
			ctx := context.Background()
			cached, err := New(ctx, fsys)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := New(ctx, fsys, WithDecisionCache(0), WithFixedVerdicts(false))
			if err != nil {
				t.Fatal(err)
			}
			if cached.Status().Evaluator != EvaluatorIR {
				t.Fatalf("evaluator %q", cached.Status().Evaluator)
			}
			// Ordinary data for treatment: disclosed at t0, withheld at c.off,
			// each asked twice in turn, so that the cache holds the other.
			ordinary := Input{
				Caller:  Caller{Subject: "u", Org: "Organization/org-a", Purposes: []string{"TREAT"}},
				Request: Request{Interaction: "read", Type: "Observation"}, Patient: "Patient/p1", Brief: true,
				ConsentKey: ConsentKey(nil), Item: Item{Type: "Observation", Labels: []string{}},
			}
			for i, now := range []int64{t0, c.off, t0 + 1, c.off + 1} {
				ordinary.Request.TimeNS = now
				got, want := decide(t, cached, ordinary), decide(t, plain, ordinary)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("ordinary data at %d: cached engine %+v, plain %+v", now, got, want)
				}
				if wantEffect := []string{Permit, Deny}[i%2]; got.Effect != wantEffect {
					t.Fatalf("ordinary data at %d: %s, want %s: the edit does not decide what the test expects", now, got.Effect, wantEffect)
				}
			}
			rng := rand.New(rand.NewPCG(11, 13))
			times := []int64{t0, t0 + 1, cutoff - 1, cutoff, cutoff + 1, sunday, t0 + 4*86400e9, t0 + 2*86400e9}
			decisions := 4
			for ctxN := range 40 {
				base := randomContext(rng, ctxN) // vm_test.go
				for round := range 3 {
					rng.Shuffle(len(times), func(i, j int) { times[i], times[j] = times[j], times[i] })
					for _, now := range times {
						in := base
						in.Request.TimeNS = now
						in.Item = randomClass(rng)
						if round == 0 && rng.IntN(2) == 0 {
							in.Item = Item{Type: "Observation", Labels: []string{}} // ordinary
						}
						got, want := decide(t, cached, in), decide(t, plain, in)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("context %d at %d, %+v: cached engine %+v, plain %+v", ctxN, now, in.Item, got, want)
						}
						decisions++
					}
				}
			}
			if s := cached.Status().DecisionReuse; !strings.HasPrefix(s, c.reuse) {
				t.Fatalf("decision reuse %q, want %q...", s, c.reuse)
			}
			if ev := cached.Evaluations(); ev >= int64(decisions) {
				t.Fatalf("%d evaluations for %d decisions: the cache never answered", ev, decisions)
			}
			t.Logf("%d decisions, %d evaluations", decisions, cached.Evaluations())
		})
	}
}

// TestDefaultPolicyTimeIsFollowed: on every input of the case matrix, the
// interpreter follows the default policy's use of the time, in the
// decision and in the fixed verdicts (Engine.TimeReuse): an edit of the
// default policy that made its decisions hold for one request only
// (slower, not wrong) fails here. An edit that uses the time through a
// built-in is reported, naming a case.
func TestDefaultPolicyTimeIsFollowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := mustEngine(t).TimeReuse(ctx, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if r.Lost != "" || r.Evaluations < 4*200 || r.Bounded == 0 {
		t.Fatalf("%+v: not every evaluation followed, or no case depends on the time", r)
	}
	t.Logf("%d evaluations followed, %d with a window the time bounds", r.Evaluations, r.Bounded)

	fsys := copyTree(t, rego.FS())
	fsys["ds4p/ordinary.rego"].Data = replaceOnceIn(t, fsys["ds4p/ordinary.rego"].Data,
		"ordinary_allowed if {\n", "ordinary_allowed if {\n\ttime.weekday(input.request.time_ns) != \"Sunday\"\n")
	eng, err := New(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = eng.TimeReuse(ctx, fsys); err != nil || !strings.Contains(r.Lost, "time.weekday") || !strings.Contains(r.Lost, "case ") {
		t.Fatalf("%+v, %v: the weekday edit is not reported", r, err)
	}
}

// TestKeysAreUnambiguous: the decision cache's and the fixed verdicts'
// keys tell apart inputs whose fields split the same bytes differently
// (claims are strings a token issuer chose, and may hold any byte), so a
// caller never meets another caller's cached decision.
func TestKeysAreUnambiguous(t *testing.T) {
	t.Parallel()
	r := &reads{all: true}
	base := Input{ConsentKey: "k", Patient: "Patient/p1", Request: Request{Interaction: "read", Type: "Observation"},
		Item: Item{Type: "Observation", Labels: []string{"a|X"}}}
	pairs := [][2]func(*Input){
		{func(in *Input) { in.Caller.Subject, in.Caller.Org = "a\x00b", "c" }, func(in *Input) { in.Caller.Subject, in.Caller.Org = "a", "b\x00c" }},
		{func(in *Input) { in.Caller.Purposes = []string{"TREAT\x01HPAYMT"} }, func(in *Input) { in.Caller.Purposes = []string{"TREAT", "HPAYMT"} }},
		{func(in *Input) { in.Caller.Scopes = []string{"a"}; in.Caller.Purposes = nil }, func(in *Input) { in.Caller.Scopes = nil; in.Caller.Purposes = []string{"a"} }},
		{func(in *Input) { in.Item.Labels = []string{"a|X\x01b|Y"} }, func(in *Input) { in.Item.Labels = []string{"a|X", "b|Y"} }},
		{func(in *Input) { in.Item.Source = "s\x00" }, func(in *Input) { in.Item.Source = "s" }},
		{func(in *Input) { in.Caller.BreakGlass = &BreakGlass{Reason: "r1", IssuedAt: 2} }, func(in *Input) { in.Caller.BreakGlass = &BreakGlass{Reason: "r", IssuedAt: 12} }},
	}
	for i, p := range pairs {
		a, b := base, base
		p[0](&a)
		p[1](&b)
		ka, _ := a.cacheKey(r, false)
		kb, _ := b.cacheKey(r, false)
		if ka == kb {
			t.Errorf("pair %d: one decision cache key for two inputs: %q", i, ka)
		}
		if i < 3 || i == 5 { // caller fields: in the fixed verdicts' key too
			if fa, fb := a.fixedKey(false, r), b.fixedKey(false, r); fa == fb {
				t.Errorf("pair %d: one context key for two callers: %q", i, fa)
			}
		}
	}
}

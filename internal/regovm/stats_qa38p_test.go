package regovm

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestStatsCountInstructionsQA38P: Stats.Instructions counts the
// instructions an evaluation runs, in the query, in every function called
// and in each element of a scan, the same in every run: a scan over n
// elements runs a fixed number per element more than over none, every
// element's body runs whether it ends early (a failed test) or not, and
// counts add up over evaluations.
func TestStatsCountInstructionsQA38P(t *testing.T) {
	ctx := context.Background()
	mods := parse(t, `package p

f(x) := x + 1

big := [y | some x in input.xs; x > 0; y := f(x)]
`)
	prog, err := Compile(ctx, "x := data.p.big", "x", mods, ast.NewObject())
	if err != nil {
		t.Fatal(err)
	}
	count := func(xs []int, times int) Stats {
		t.Helper()
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprint(x)
		}
		in := ast.MustParseTerm(`{"xs": [` + strings.Join(parts, ",") + `]}`).Value
		var st Stats
		for range times {
			if v, err := prog.Eval(ctx, in, Options{Stats: &st}); err != nil || v == nil {
				t.Fatalf("%v: %v %v", xs, v, err)
			}
		}
		return st
	}
	none := count(nil, 1)
	if none.Instructions <= 0 {
		t.Fatalf("an evaluation over no elements counted %d instructions", none.Instructions)
	}
	five, ten := count([]int{1, 2, 3, 4, 5}, 1), count([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 1)
	per := (five.Instructions - none.Instructions) / 5
	if per <= 0 || five.Instructions != none.Instructions+5*per || ten.Instructions != none.Instructions+10*per {
		t.Errorf("instructions over 0, 5 and 10 elements: %d, %d, %d", none.Instructions, five.Instructions, ten.Instructions)
	}
	// Elements the body's test turns away run fewer instructions (no call
	// of f, nothing appended), but still some.
	failing := count([]int{-1, -2, -3, -4, -5}, 1)
	if failing.Instructions <= none.Instructions || failing.Instructions >= five.Instructions || failing.Calls >= five.Calls {
		t.Errorf("instructions over 5 elements the test turns away: %d (none %d, five passing %d)", failing.Instructions, none.Instructions, five.Instructions)
	}
	if again := count([]int{1, 2, 3, 4, 5}, 1); again != five {
		t.Errorf("the same evaluation counted %+v, then %+v", five, again)
	}
	if twice := count([]int{1, 2, 3, 4, 5}, 2); twice.Instructions != 2*five.Instructions || twice.Calls != 2*five.Calls {
		t.Errorf("two evaluations counted %+v, one %+v", twice, five)
	}
}

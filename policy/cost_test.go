package policy

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestCostReport: Cost decides every case input of the tree and reports
// calls and times that hang together; a policy whose decisions call more
// of its rules reports more calls, whatever the machine.
func TestCostReport(t *testing.T) {
	ctx := context.Background()
	sets, err := LoadCases(rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	cases := 0
	for _, s := range sets {
		cases += len(s.Cases)
	}
	eng, err := New(ctx, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	base, err := eng.Cost(ctx, rego.FS(), 2)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Cost{"first": base.First, "later": base.Later} {
		if c.MedianCalls <= 0 || c.MaxCalls < c.MedianCalls || c.Median <= 0 || c.Max < c.Median ||
			c.MedianInstructions < c.MedianCalls || c.MaxInstructions < c.MedianInstructions {
			t.Errorf("%s decisions: %+v", name, c)
		}
	}
	if base.Cases != cases || base.Later.MaxCalls > base.First.MaxCalls || base.Slowest == "" {
		t.Errorf("report %+v for %d cases", base, cases)
	}

	// Part 2 data and state-law topics now also ask a rule that calls a
	// function for each of 50 numbers: every decision about restricted data
	// but counseling notes alone makes 50 calls more. (The case with the
	// most calls is about one of them, so the largest count grows by a
	// little less than 50 at the least.) The rule reads the input: one
	// that reads none is worked out once per revision (regovm's constant
	// rules) and no decision calls it.
	costly := copyTree(t, rego.FS())
	src := costly["ds4p/classify.rego"].Data
	src = bytes.Replace(src, []byte("restricted if part2\n"), []byte("restricted if {\n\tpart2\n\tcostly\n}\n"), 1)
	src = bytes.Replace(src, []byte("restricted if count(topics) > 0\n"), []byte("restricted if {\n\tcount(topics) > 0\n\tcostly\n}\n"), 1)
	src = append(src, []byte("\nstep(i) := i\n\ncostly if {\n\tinput.item\n\tevery i in numbers.range(1, 50) {\n\t\tstep(i) > 0\n\t}\n}\n")...)
	costly["ds4p/classify.rego"].Data = src
	if strings.Count(string(src), "\tcostly\n") != 2 {
		t.Fatal("the edit did not apply")
	}
	eng2, err := New(ctx, costly)
	if err != nil {
		t.Fatal(err)
	}
	more, err := eng2.Cost(ctx, costly, 1)
	if err != nil {
		t.Fatal(err)
	}
	if more.First.MaxCalls < base.First.MaxCalls+45 || more.Later.MaxCalls < base.Later.MaxCalls+45 {
		t.Errorf("the costly policy's decisions make at most %d (first) and %d (later) calls, the default's %d and %d",
			more.First.MaxCalls, more.Later.MaxCalls, base.First.MaxCalls, base.Later.MaxCalls)
	}
	if more.First.MaxInstructions < base.First.MaxInstructions+2*45 || more.Later.MaxInstructions < base.Later.MaxInstructions+2*45 {
		t.Errorf("the costly policy's decisions run at most %d (first) and %d (later) instructions, the default's %d and %d",
			more.First.MaxInstructions, more.Later.MaxInstructions, base.First.MaxInstructions, base.Later.MaxInstructions)
	}

	// OPA's evaluator is not measured: an error, not numbers.
	td, err := New(ctx, rego.FS(), WithEvaluator(EvaluatorTopdown))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := td.Cost(ctx, rego.FS(), 1); err == nil || !strings.Contains(err.Error(), "topdown") {
		t.Errorf("topdown's cost: %v", err)
	}
}

package policy_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/policy"
)

// The engine's own cost of a decision, around the policy's: a one-line
// policy (as BenchmarkDecide/floor-trivial-policy), no decision cache. 43
// allocations at QA round 22 (60 before): the item's input form comes from
// the memo, the span's revision attribute is made once per revision and
// its effect attribute only for a span that records, the reasons are read
// without copying their array, and noting why a decision holds for its
// own time only moves nothing to the heap when there is nothing to note.
// A change that adds to it should say why in its commit.
func TestQA22CEngineOverheadAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	fsys := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\"effect\": \"permit\", \"reasons\": [{\"rule\": \"r\", \"message\": \"m\"}]} if input.item.type == \"Condition\"\n")}}
	eng, err := policy.New(context.Background(), fsys, policy.WithDecisionCache(0))
	if err != nil {
		t.Fatal(err)
	}
	in := sudInput("Organization/org-b", "TREAT")
	in.Consents = []any{tpoConsent("1", "active")}
	in.ConsentKey = "k"
	decide := func() {
		d, err := eng.Decide(context.Background(), in)
		if err != nil || !d.Permitted() || len(d.Reasons) != 1 || d.Reasons[0].Rule != "r" {
			t.Fatal(d, err)
		}
	}
	decide()
	if got := testing.AllocsPerRun(200, decide); got > 43 {
		t.Errorf("a decision of a one-line policy costs %v allocations, want at most 43", got)
	}
}

package policy_test

import (
	"context"
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// A response's first Part 2 decision about a patient (no fixed verdicts
// yet, BenchmarkDecide/part2-consented/first-class): 164 allocations since
// QA round 24 (196 before), when verdict(c) (consent.rego) stopped
// building a set of candidate positions, their union, a list of the
// candidate rules and a list of the deepest ones
// (TestQA24CVerdictRewriteAnswersAsBefore checks it answers as before).
// A change that adds to it should say why in its commit.
func TestQA24CFirstPart2DecisionAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	eng := newEngine(t, policy.WithDecisionCache(0), policy.WithFixedVerdicts(false))
	in := sudInput("Organization/org-a", "TREAT")
	in.Item.Labels = []string{act + "42CFRPart2", act + "SUD", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"}
	in.Consents = []any{tpoConsentForm()}
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
	in.Brief = true
	decide := func() {
		d, err := eng.Decide(context.Background(), in)
		if err != nil || !d.Permitted() || len(d.Reasons) != 1 || d.Reasons[0].Consent != "c1" {
			t.Fatal(d, err)
		}
	}
	decide()
	if got := testing.AllocsPerRun(200, decide); got > 170 {
		t.Errorf("a first Part 2 decision costs %v allocations, want at most 170", got)
	}
}

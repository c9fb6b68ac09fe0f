package policy_test

import (
	"encoding/json"
	"io/fs"
	"reflect"
	"testing"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestPart2NoticesFromPolicyDataQA38P: a Part 2 disclosure carries each
// notice config.part2.notices names, with its id and the text and
// regulation of config.notices, as the interpreter decides it, brief and
// in full; an ordinary disclosure and a denial carry none. It holds
// whether the policy builds the notices in each decision or once per
// revision.
func TestPart2NoticesFromPolicyDataQA38P(t *testing.T) {
	b, err := fs.ReadFile(rego.FS(), "ds4p/config/data.json")
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Part2 struct {
			Notices []string `json:"notices"`
		} `json:"part2"`
		Notices map[string]policy.Notice `json:"notices"`
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	var want []policy.Notice
	for _, id := range data.Part2.Notices {
		n := data.Notices[id]
		n.ID = id
		want = append(want, n)
	}
	if len(want) == 0 || want[0].Text == "" {
		t.Fatalf("no Part 2 notice in the policy data: %+v", data)
	}
	eng := newEngine(t, policy.WithDecisionCache(0))
	for _, brief := range []bool{true, false} {
		part2 := sudInput("Organization/org-a", "TREAT")
		part2.Item.Labels = []string{act + "42CFRPart2", act + "SUD"}
		part2.Consents = []any{tpoConsentForm()}
		part2.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
		part2.Brief = brief
		ordinary := part2
		ordinary.Item.Labels = nil
		denied := part2
		denied.Caller.Org = "Organization/org-b"
		for _, c := range []struct {
			name   string
			in     policy.Input
			effect string
			want   []policy.Notice
		}{
			{"part2 with consent", part2, policy.Permit, want},
			{"ordinary", ordinary, policy.Permit, nil},
			{"part2 denied", denied, policy.Deny, nil},
		} {
			d, err := eng.Decide(t.Context(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != c.effect || !reflect.DeepEqual(d.Notices, c.want) {
				t.Errorf("%s, brief %v: %s with notices %+v, want %s with %+v", c.name, brief, d.Effect, d.Notices, c.effect, c.want)
			}
		}
	}
	if st := eng.Status(); st.Evaluator != policy.EvaluatorIR {
		t.Fatalf("evaluator %v: the interpreter does not serve", st.Evaluator)
	}
}

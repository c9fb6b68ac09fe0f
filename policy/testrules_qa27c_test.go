package policy

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ds4p/ds4p/rego"
)

// TestTestFileRulesRefused: a Rego test file that adds a rule to the
// policy the proxy serves (another clause of a rule of its modules, or a
// rule the modules read by path) is refused by verification and reported
// by check: the tests ran with it, the proxy decides without it, so the
// tests vouched for a policy other than the one serving. Here SUD as a
// topic of every Observation kept in a test file passed its own test and a reload,
// and the served policy disclosed Observations (QA round 27). A helper of
// its own in a test file is fine.
func TestTestFileRulesRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const test = `package ds4p_test

import data.ds4p

test_observations_withheld if {
	ds4p.decision.effect == "deny" with input as {"version": "1", "caller": {"subject": "u", "org": "Organization/o", "org_identifiers": [], "client": "", "scopes": [], "purposes": ["TREAT"], "break_glass": null}, "request": {"interaction": "read", "type": "Observation", "time_ns": 1}, "patient": "Patient/p", "consents": [], "item": {"type": "Observation", "labels": [], "source": ""}}
}
`
	tests := []struct {
		name, file, src, want string
	}{
		{"a clause of a served rule", "ds4p/zz_test.rego", "package ds4p\n\ntopics contains \"SUD\" if input.item.type == \"Observation\"\n", "data.ds4p.topics"},
		{"a rule the modules read by path", "ds4p/zz_test.rego", "package ds4p\n\nextra_sud if input.item.type == \"Observation\"\n", "data.ds4p.extra_sud"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tree := copyTree(t, rego.FS())
			tree["ds4p/zz_obs_test.rego"] = &fstest.MapFile{Data: []byte(test)}
			tree[tc.file] = &fstest.MapFile{Data: []byte(tc.src)}
			if tc.name == "a rule the modules read by path" {
				tree["ds4p/zz.rego"] = &fstest.MapFile{Data: []byte("package ds4p\n\ntopics contains \"SUD\" if data.ds4p.extra_sud\n")}
			}
			err := Verify(ctx, tree)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want a refusal naming %s", err, tc.want)
			}
			if e, err := New(ctx, tree, WithVerify(true)); err == nil {
				d, err := e.Decide(ctx, Input{Version: InputVersion,
					Caller:  Caller{Subject: "u", Org: "Organization/o", Purposes: []string{"TREAT"}},
					Request: Request{Interaction: "read", Type: "Observation", TimeNS: time.Now().UnixNano()},
					Patient: "Patient/p", Item: Item{Type: "Observation", Labels: []string{}}})
				t.Fatalf("the tree loaded; its tests withheld Observations, the served policy answers %s (%v)", d.Effect, err)
			}
			problems, err := Check(ctx, tree)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range problems {
				found = found || (p.Stage == "test" && strings.Contains(p.Message, tc.want))
			}
			if !found {
				t.Errorf("Check does not report it: %v", problems)
			}
		})
	}
	t.Run("a helper of its own", func(t *testing.T) {
		t.Parallel()
		tree := copyTree(t, rego.FS())
		tree["ds4p/zz_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p\n\nzz_fixture := 1\n\ntest_zz if zz_fixture == 1\n")}
		if err := Verify(ctx, tree); err != nil {
			t.Errorf("a test file with a helper of its own is refused: %v", err)
		}
	})
}

package policy_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestClassifyLabelSetsFollowReloadQA37P: the classification rules read
// the configured label lists as sets, rules that read no input and so are
// worked out once per compiled program (internal/regovm constant.go). A
// reload with other lists must classify by the new lists, never by the
// sets worked out for the old ones.
func TestClassifyLabelSetsFollowReloadQA37P(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const conf = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|"
	eng, err := policy.New(ctx, rego.FS(), policy.WithDecisionCache(0))
	if err != nil {
		t.Fatal(err)
	}
	decide := func(labels ...string) string {
		t.Helper()
		in := sudInput("Organization/org-b", "HPAYMT")
		in.Item.Labels = labels
		in.ConsentKey = policy.ConsentKey(nil)
		d, err := eng.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return d.Effect
	}
	const mine = "urn:example:labels|OURS"
	// The shipped lists: SICKLE is another sensitivity code (the catch-all
	// topic, treatment only), R alone is the restricted topic; a code no
	// list names is ordinary (payment may have it).
	want := map[string]string{act + "SICKLE": "deny", conf + "R": "deny", mine: "permit", conf + "N": "permit"}
	for l, e := range want {
		if got := decide(l); got != e {
			t.Fatalf("shipped policy: %s: %s, want %s", l, got, e)
		}
	}

	// Another revision: SICKLE is no longer listed, R is not a restricting
	// confidentiality, and the deployment's own code marks Part 2 records
	// (part2.labels) and, in another revision, counseling notes.
	fsys := copyFS(t, rego.FS())
	edit := func(path string, f func(map[string]any)) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(fsys[path].Data, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		fsys[path].Data = b
	}
	edit("ds4p/config/state_law/data.json", func(m map[string]any) {
		os := m["other_sensitive"].(map[string]any)
		labels := os["labels"].([]any)
		n := len(labels)
		labels = slices.DeleteFunc(labels, func(l any) bool { return l == act+"SICKLE" })
		if len(labels) != n-1 {
			t.Fatalf("SICKLE is not in state_law.other_sensitive.labels")
		}
		os["labels"] = labels
		m["restricted_confidentiality"].(map[string]any)["labels"] = []any{conf + "V"}
	})
	edit("ds4p/config/data.json", func(m map[string]any) {
		p2 := m["part2"].(map[string]any)
		p2["labels"] = append(p2["labels"].([]any), mine)
	})
	if err := eng.Load(ctx, fsys); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{act + "SICKLE": "permit", conf + "R": "permit", mine: "deny", conf + "N": "permit"}
	for l, e := range want {
		if got := decide(l); got != e {
			t.Fatalf("reloaded policy: %s: %s, want %s", l, got, e)
		}
	}
}

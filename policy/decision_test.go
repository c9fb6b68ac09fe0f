package policy

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestDecodeDecisionKeepsToTheSchema: a decision that breaks
// rego/schema/decision.schema.json is an error (the proxy withholds), not
// read with the offending member dropped. QA round 16: a policy whose
// obligations lacked their system, whose notice text was a number and
// whose break_glass was the string "true" disclosed Part 2 data without
// NORDSCLCD, with an empty 42 CFR 2.32 notice and no 2.51 record.
func TestDecodeDecisionKeepsToTheSchema(t *testing.T) {
	t.Parallel()
	const ok = `"effect": "permit", "reasons": [{"rule": "r"}]`
	valid := []string{
		`{` + ok + `}`,
		`{"effect": "deny", "reasons": []}`,
		`{"effect": "permit", "obligations": ["http://terminology.hl7.org/CodeSystem/v3-ActCode|NORDSCLCD"], "notices": [{"id": "42CFR2.32", "regulation": "42 CFR 2.32", "text": "t"}], "break_glass": true, "reasons": [{"rule": "r", "message": "m", "consent": "c", "version": "1", "provision": "p", "labels": ["s|c"]}]}`,
		`{"effect": "redact", "redact": ["s|HIV"], "reasons": []}`,
		`{"effect": "mask", "mask": {"s|HIV"}, "reasons": {{"rule": "r"}}}`, // sets, as Rego may build them
		`{"effect": "permit", "break_glass": false, "obligations": [], "notices": [], "reasons": [], "extra": 1}`,
	}
	for _, src := range valid {
		if _, err := decodeDecision(ast.MustParseTerm(src).Value); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	invalid := map[string]string{
		"obligation without system":    `{` + ok + `, "obligations": ["NORDSCLCD"]}`,
		"obligation without code":      `{` + ok + `, "obligations": ["s|"]}`,
		"obligation with two pipes":    `{` + ok + `, "obligations": ["a|b|c"]}`,
		"obligation not a string":      `{` + ok + `, "obligations": [1]}`,
		"redact label without system":  `{"effect": "redact", "redact": ["s|ETH", "HIV"], "reasons": []}`,
		"mask label without system":    `{"effect": "mask", "mask": ["|HIV"], "reasons": []}`,
		"break_glass a string":         `{` + ok + `, "break_glass": "true"}`,
		"break_glass null":             `{` + ok + `, "break_glass": null}`,
		"notice text a number":         `{` + ok + `, "notices": [{"id": "42CFR2.32", "text": 42}]}`,
		"notice without text":          `{` + ok + `, "notices": [{"id": "42CFR2.32"}]}`,
		"notice without id":            `{` + ok + `, "notices": [{"text": "t"}]}`,
		"notice regulation a number":   `{` + ok + `, "notices": [{"id": "i", "text": "t", "regulation": 2}]}`,
		"notice not an object":         `{` + ok + `, "notices": ["t"]}`,
		"no reasons":                   `{"effect": "permit"}`,
		"reasons not an array":         `{"effect": "permit", "reasons": "r"}`,
		"reason without rule":          `{"effect": "permit", "reasons": [{"message": "m"}]}`,
		"reason rule a number":         `{"effect": "permit", "reasons": [{"rule": 1}]}`,
		"reason consent not a string":  `{"effect": "permit", "reasons": [{"rule": "r", "consent": ["c"]}]}`,
		"reason version a number":      `{"effect": "permit", "reasons": [{"rule": "r", "version": 1}]}`,
		"reason labels not strings":    `{"effect": "permit", "reasons": [{"rule": "r", "labels": [1]}]}`,
		"reason not an object":         `{"effect": "permit", "reasons": ["r"]}`,
		"effect missing":               `{"reasons": []}`,
		"effect not a string":          `{"effect": true, "reasons": []}`,
		"obligations not an array":     `{` + ok + `, "obligations": "s|c"}`,
		"provision not a string":       `{"effect": "permit", "reasons": [{"rule": "r", "provision": {"a": 1}}]}`,
		"message not a string":         `{"effect": "permit", "reasons": [{"rule": "r", "message": null}]}`,
		"decision not an object":       `["permit"]`,
		"redact not an array of label": `{"effect": "redact", "redact": "s|HIV", "reasons": []}`,
	}
	for name, src := range invalid {
		if d, err := decodeDecision(ast.MustParseTerm(src).Value); err == nil {
			t.Errorf("%s: %s decoded as %+v", name, src, d)
		}
	}
}

// TestMalformedDecisionIsAnError: through the engine, a policy whose
// decision breaks the schema answers with an error, which the proxy turns
// into a withheld response.
func TestMalformedDecisionIsAnError(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"ds4p/main.rego": &fstest.MapFile{Data: []byte(`package ds4p

decision := {
	"effect": "permit",
	"obligations": ["NORDSCLCD", "42CFRPart2"],
	"notices": [{"id": "42CFR2.32", "text": 42}],
	"break_glass": "true",
	"reasons": [{"rule": "emergency"}],
}
`)}}
	eng, err := New(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Decide(context.Background(), Input{Patient: "Patient/p1", Item: Item{Type: "Condition", Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|42CFRPart2"}}})
	if err == nil || !strings.Contains(err.Error(), "system|code") {
		t.Fatalf("decided %+v, %v; want an error naming the obligation", d, err)
	}
}

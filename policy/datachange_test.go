package policy

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestVerifyAcceptsPolicyDataChanges checks that an analyst may change the
// policy data alone (ds4p/config/*.json, schema-valid) and have the change
// load: the Rego unit tests, which a reload runs (Verify), decide under
// their own copy of the policy data and must not assert the shipped values.
// What the shipped data does is the case matrix's business (Check).
func TestVerifyAcceptsPolicyDataChanges(t *testing.T) {
	t.Parallel()
	const config, stateLaw = "ds4p/config/data.json", "ds4p/config/state_law/data.json"
	tests := []struct {
		name string
		file string
		edit func(doc map[string]any)
	}{
		{"ordinary.without_purpose false", config, func(d map[string]any) {
			d["ordinary"].(map[string]any)["without_purpose"] = false
		}},
		{"ordinary.consent_model opt-in", config, func(d map[string]any) {
			d["ordinary"].(map[string]any)["consent_model"] = "opt-in"
		}},
		{"ordinary.purposes TREAT only", config, func(d map[string]any) {
			d["ordinary"].(map[string]any)["purposes"] = []any{"TREAT"}
		}},
		{"no purpose hierarchy", config, func(d map[string]any) {
			d["purpose_hierarchy"] = map[string]any{}
		}},
		{"a designation", config, func(d map[string]any) {
			d["designations"] = map[string]any{"Organization/hie": []any{"Organization/org-a", "Organization/org-b"}}
		}},
		{"break_glass shorter tokens", config, func(d map[string]any) {
			d["break_glass"].(map[string]any)["max_token_lifetime_seconds"] = 600
		}},
		{"HIV.without_consent empty", stateLaw, func(d map[string]any) {
			d["topics"].(map[string]any)["HIV"].(map[string]any)["without_consent"] = []any{}
		}},
		{"every topic needs consent and obliges NORDSCLCD", stateLaw, func(d map[string]any) {
			for _, topic := range d["topics"].(map[string]any) {
				topic.(map[string]any)["without_consent"] = []any{}
				topic.(map[string]any)["obligations"] = []any{"http://terminology.hl7.org/CodeSystem/v3-ActCode|NORDSCLCD"}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tree := copyTree(t, rego.FS())
			var doc map[string]any
			if err := json.Unmarshal(tree[tc.file].Data, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc)
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			tree[tc.file].Data = b
			if err := Verify(context.Background(), tree); err != nil {
				t.Errorf("a policy data change alone is rejected: %v", err)
			}
		})
	}
}

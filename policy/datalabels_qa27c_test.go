package policy

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/rego"
)

// TestDataLabelsAsItemsCarryThem: a label in the policy data that no item
// can carry (a code in another case, a misspelt code, a legacy or OID
// spelling of its system) is refused by verification, so a reload keeps the revision in force. The
// schema reads only "system|code": restricted_confidentiality.labels with
// "...v3-Confidentiality|r" loaded, and every item labelled R was ordinary
// data, permitted to a payer (QA round 27).
func TestDataLabelsAsItemsCarryThem(t *testing.T) {
	t.Parallel()
	const (
		config   = "ds4p/config/data.json"
		stateLaw = "ds4p/config/state_law/data.json"
		conf     = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|"
		act      = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	)
	tests := []struct {
		name, file, want string
		edit             func(doc map[string]any)
	}{
		{"confidentiality r in lower case", stateLaw, `did you mean "` + conf + `R"`, func(d map[string]any) {
			d["restricted_confidentiality"].(map[string]any)["labels"] = []any{conf + "r", conf + "V"}
		}},
		{"Part 2 label misspelt", config, "42CFRpart2", func(d map[string]any) {
			d["part2"].(map[string]any)["labels"] = []any{act + "42CFRpart2"}
		}},
		{"counseling notes under the legacy system", config, `write "` + act + `PSYTHPN"`, func(d map[string]any) {
			d["counseling_notes"].(map[string]any)["labels"] = []any{"http://hl7.org/fhir/v3/ActCode|PSYTHPN"}
		}},
		{"confidentiality order by OID", config, "consents.confidentiality_order[4]", func(d map[string]any) {
			order := d["consents"].(map[string]any)["confidentiality_order"].([]any)
			order[4] = "urn:oid:2.16.840.1.113883.5.25|R"
		}},
		{"a state-law label key misspelt", stateLaw, "HVI", func(d map[string]any) {
			m := d["labels"].(map[string]any)
			delete(m, act+"HIV")
			m[act+"HVI"] = "HIV"
		}},
		{"an obligation misspelt", stateLaw, "NORDSCLC", func(d map[string]any) {
			d["topics"].(map[string]any)["HIV"].(map[string]any)["obligations"] = []any{act + "NORDSCLC"}
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
			err = Verify(context.Background(), tree)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want a refusal naming %q", err, tc.want)
			}
			problems, err := Check(context.Background(), tree)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range problems {
				found = found || (p.Stage == "data" && strings.Contains(p.Message, tc.want))
			}
			if !found {
				t.Errorf("Check does not report it: %v", problems)
			}
		})
	}
}

// TestMisspeltDataLabelKeepsRevisionServing: the reload of such data is
// refused, and an item labelled R stays withheld from a payer.
func TestMisspeltDataLabelKeepsRevisionServing(t *testing.T) {
	t.Parallel()
	const stateLaw = "ds4p/config/state_law/data.json"
	ctx := context.Background()
	e, err := New(ctx, rego.FS(), WithVerify(true))
	if err != nil {
		t.Fatal(err)
	}
	good := e.Revision()
	tree := copyTree(t, rego.FS())
	var doc map[string]any
	if err := json.Unmarshal(tree[stateLaw].Data, &doc); err != nil {
		t.Fatal(err)
	}
	doc["restricted_confidentiality"].(map[string]any)["labels"] = []any{
		"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|r",
		"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V",
	}
	if tree[stateLaw].Data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := e.Load(ctx, tree); err == nil {
		t.Error("data with confidentiality r loaded")
	}
	if e.Revision() != good {
		t.Errorf("revision %s serves, want %s", e.Revision(), good)
	}
	in := Input{Version: InputVersion, Caller: Caller{Subject: "payer", Org: "Organization/payer", Purposes: []string{"HPAYMT"}},
		Request: Request{Interaction: "read", Type: "Observation", TimeNS: time.Now().UnixNano()},
		Patient: "Patient/p", Item: Item{Type: "Observation", Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"}}}
	d, err := e.Decide(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Effect != Deny {
		t.Errorf("an item labelled R is %s to a payer, want deny", d.Effect)
	}
}

// TestShippedDataLabelsAccepted: the embedded policy data passes the label
// checks (a site's copy of it keeps loading).
func TestShippedDataLabelsAccepted(t *testing.T) {
	t.Parallel()
	problems, err := ValidateData(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Errorf("the shipped policy data is refused: %v", problems)
	}
}

// TestDataPurposeMisspellingsRefused: a purpose of use in the policy data
// one letter from a v3-PurposeOfUse code it is not is refused; in
// purpose_hierarchy it cut COVERAGE off HPAYMT, and a patient's deny of
// payment no longer withheld from a caller stating COVERAGE (QA round 27).
// A site's own purpose far from every v3 code still loads.
func TestDataPurposeMisspellingsRefused(t *testing.T) {
	t.Parallel()
	const config = "ds4p/config/data.json"
	tests := []struct {
		name, want string
		edit       func(doc map[string]any)
	}{
		{"a narrower purpose misspelt", `"COVERGAE"`, func(d map[string]any) {
			h := d["purpose_hierarchy"].(map[string]any)
			h["HPAYMT"] = []any{"CLMATTCH", "COVAUTH", "COVERGAE", "MILDCRG", "REMITADV"}
		}},
		{"a broader purpose misspelt", `"HPAYTM"`, func(d map[string]any) {
			h := d["purpose_hierarchy"].(map[string]any)
			h["HPAYTM"] = h["HPAYMT"]
			delete(h, "HPAYMT")
		}},
		{"an ordinary purpose misspelt", `"HOPERATT"`, func(d map[string]any) {
			d["ordinary"].(map[string]any)["purposes"] = []any{"TREAT", "HOPERATT"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tree := copyTree(t, rego.FS())
			var doc map[string]any
			if err := json.Unmarshal(tree[config].Data, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc)
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			tree[config].Data = b
			problems, err := ValidateData(context.Background(), tree)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Errorf("ValidateData = %v, want a problem naming %s", problems, tc.want)
			}
		})
	}
	t.Run("a site's own purpose loads", func(t *testing.T) {
		t.Parallel()
		tree := copyTree(t, rego.FS())
		var doc map[string]any
		if err := json.Unmarshal(tree[config].Data, &doc); err != nil {
			t.Fatal(err)
		}
		h := doc["purpose_hierarchy"].(map[string]any)
		h["HOPERAT"] = append(h["HOPERAT"].([]any), "LOCALQA")
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		tree[config].Data = b
		if err := Verify(context.Background(), tree); err != nil {
			t.Errorf("a local purpose under HOPERAT is refused: %v", err)
		}
	})
}

// TestDataConsentCodesRefused: a disclosure action or a general policy
// code in config.consents that no consent can carry is refused; it
// matched nothing, so a patient's deny of access, or an opt-out's hold on
// ordinary records, silently stopped applying (QA round 27). A general
// policy given as a URI is a site's own and loads.
func TestDataConsentCodesRefused(t *testing.T) {
	t.Parallel()
	const config = "ds4p/config/data.json"
	tests := []struct {
		name, want string
		edit       func(c map[string]any)
	}{
		{"an action misspelt", `"acess"`, func(c map[string]any) {
			c["disclosure_actions"] = []any{"acess", "disclose", "use"}
		}},
		{"an opt-out misspelt", `did you mean "OPTOUT"`, func(c map[string]any) {
			c["general_policies"] = []any{"OPTIN", "OPTUOT"}
		}},
		{"a policy URI", "", func(c map[string]any) {
			c["general_policies"] = []any{"OPTIN", "OPTOUT", "https://example.org/policies/hie-opt-out"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tree := copyTree(t, rego.FS())
			var doc map[string]any
			if err := json.Unmarshal(tree[config].Data, &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc["consents"].(map[string]any))
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			tree[config].Data = b
			problems, err := ValidateData(context.Background(), tree)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(problems, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("ValidateData = %v, want a problem naming %q", problems, tc.want)
			}
		})
	}
}

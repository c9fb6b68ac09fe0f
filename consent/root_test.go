package consent

import (
	"testing"
)

// TestRootType checks where the root rule's type comes from: a stated root
// type is kept; an R4 root without type takes OPTIN → permit, OPTOUT → deny,
// and anything else → deny; a consent without provision gets one rule with
// that base decision.
func TestRootType(t *testing.T) {
	t.Parallel()
	const (
		optIn   = `{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]}`
		optOut  = `{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]}`
		both    = `{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}, {"system": "http://hl7.org/fhir/v3/ActCode", "code": "OPTOUT"}]}`
		legacy  = `{"coding": [{"system": "http://hl7.org/fhir/v3/ActCode", "code": "OPTIN"}]}`
		part2   = `{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}]}`
		noSys   = `{"coding": [{"code": "OPTIN"}]}`
		unbound = `{"coding": [{"system": "http://example.org/rules", "code": "OPTIN"}]}`
	)
	tests := []struct {
		name       string
		policyRule string // "" for none
		provision  string // "" for none
		wantType   string
		wantFrom   string
		wantPath   string
	}{
		{"OPTIN, root without type", optIn, `{"purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]}`, "permit", "policyRule", "provision"},
		{"OPTOUT, root without type", optOut, `{}`, "deny", "policyRule", "provision"},
		{"OPTIN with a legacy system", legacy, `{}`, "permit", "policyRule", "provision"},
		{"OPTIN and OPTOUT together", both, `{}`, "deny", "policyRule", "provision"},
		{"42CFRPart2, root without type", part2, `{}`, "deny", "default", "provision"},
		{"no policyRule, root without type", "", `{}`, "deny", "default", "provision"},
		{"OPTIN without system", noSys, `{}`, "deny", "default", "provision"},
		{"OPTIN from another system", unbound, `{}`, "deny", "default", "provision"},
		{"OPTIN, stated deny root kept", optIn, `{"type": "deny"}`, "deny", "provision.type", "provision"},
		{"OPTOUT, stated permit root kept", optOut, `{"type": "permit"}`, "permit", "provision.type", "provision"},
		{"OPTIN, no provision", optIn, "", "permit", "policyRule", "policyRule"},
		{"OPTOUT, no provision", optOut, "", "deny", "policyRule", "policyRule"},
		{"42CFRPart2, no provision", part2, "", "deny", "default", "policyRule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := `{"resourceType": "Consent", "status": "active", "patient": {"reference": "Patient/p1"}`
			if tt.policyRule != "" {
				raw += `, "policyRule": ` + tt.policyRule
			}
			if tt.provision != "" {
				raw += `, "provision": ` + tt.provision
			}
			raw += `}`
			rec := mustPut(t, newStore(t), raw)
			n, err := Normalize(rec)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(n.Rules) == 0 {
				t.Fatal("no rules")
			}
			root := n.Rules[0]
			if root.Type != tt.wantType || n.RootTypeFrom != tt.wantFrom || root.Path != tt.wantPath || root.Depth != 0 {
				t.Errorf("root = %s %q depth %d from %q; want %s %q depth 0 from %q",
					root.Type, root.Path, root.Depth, n.RootTypeFrom, tt.wantType, tt.wantPath, tt.wantFrom)
			}
			if tt.provision == "" && (len(n.Rules) != 1 || len(root.Conditions) != 1 || root.Conditions[0].Actors == nil) {
				t.Errorf("a consent without provision should have one rule with one empty condition: %+v", n.Rules)
			}
		})
	}
}

// TestNestedTypeDefaultsToOpposite checks that a nested provision without a
// type is an exception to its parent, under a derived root type too.
func TestNestedTypeDefaultsToOpposite(t *testing.T) {
	t.Parallel()
	raw := `{"resourceType": "Consent", "status": "active", "patient": {"reference": "Patient/p1"},
  "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
  "provision": {"provision": [{"purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HMARKT"}],
    "provision": [{"class": [{"code": "Immunization"}]}]}]}}`
	n, err := Normalize(mustPut(t, newStore(t), raw))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range n.Rules {
		got = append(got, r.Type)
	}
	if len(got) != 3 || got[0] != "permit" || got[1] != "deny" || got[2] != "permit" {
		t.Errorf("types = %v, want [permit deny permit]", got)
	}
}

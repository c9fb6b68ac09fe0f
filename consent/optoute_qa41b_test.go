package consent

import "testing"

// TestOptOutWithExceptionsIsAnOptOutQA41B: a root without type takes its
// decision from policyRule, and OPTOUTE (opt-out with exceptions) is an
// opt-out: beside OPTIN it is the conservative deny, as OPTOUT beside
// OPTIN is; read as OPTIN alone it permitted everything (QA round 41,
// area B).
func TestOptOutWithExceptionsIsAnOptOutQA41B(t *testing.T) {
	for _, tt := range []struct {
		codes, want, from string
	}{
		{`"OPTIN"`, "permit", rootFromPolicyRule},
		{`"OPTOUT"`, "deny", rootFromPolicyRule},
		{`"OPTOUTE"`, "deny", rootFromPolicyRule},
		{`"OPTIN"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"`, "deny", rootFromPolicyRule},
		{`"OPTIN"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUTE"`, "deny", rootFromPolicyRule},
	} {
		raw := `{"resourceType":"Consent","id":"g1","status":"active",
		"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
		"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
		"patient":{"reference":"Patient/p1"},
		"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":` + tt.codes + `}]},
		"provision":{"provision":[{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}]}]}}`
		n, err := Normalize(Record{ID: "g1", Version: 1, Patient: "Patient/p1", Status: "active", JSON: []byte(raw)})
		if err != nil {
			t.Fatalf("%s: %v", tt.codes, err)
		}
		if n.Rules[0].Type != tt.want || n.RootTypeFrom != tt.from {
			t.Errorf("policyRule %s: root %s from %s, want %s from %s", tt.codes, n.Rules[0].Type, n.RootTypeFrom, tt.want, tt.from)
		}
	}
}

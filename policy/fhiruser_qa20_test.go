package policy_test

import (
	"context"
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// TestCacheKeysOnFHIRUser: the default policy matches consent actors
// against the caller's fhirUser too (a token whose subject is an identity
// provider's opaque id names its practitioner there), so a decision made for
// one practitioner of an organisation must not answer another whose consent
// treatment differs (QA round 20).
func TestCacheKeysOnFHIRUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := newEngine(t)
	c := tpoConsent("1", "active")
	rules := c["rules"].([]any)
	c["rules"] = append(rules, map[string]any{"path": "provision.provision[0].provision[0]", "depth": 2, "type": "deny", "conditions": []any{
		cond(nil), cond(map[string]any{"actors": []any{"Organization/org-a"}, "purposes": []any{"TREAT", "HPAYMT"}}),
		cond(map[string]any{"actors": []any{"Practitioner/dr-x"}}),
	}})
	in := func(fhirUser string) policy.Input {
		return policy.Input{
			Caller: policy.Caller{Subject: "5b0c7b8e-6f7a-4b43-9a53-0c2f1d1b7e11", Org: "Organization/org-a", OrgIdentifiers: []string{},
				Scopes: []string{}, Purposes: []string{"TREAT"}, FHIRUser: fhirUser},
			Request:    policy.Request{Interaction: "read", Type: "Condition", TimeNS: now},
			Patient:    "Patient/p1",
			Item:       policy.Item{Type: "Condition", Labels: []string{act + "SUD", act + "42CFRPart2"}},
			Consents:   []any{c},
			ConsentKey: policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}}),
		}
	}
	for _, step := range []struct{ fhirUser, want string }{
		{"Practitioner/dr-y", "permit"}, {"Practitioner/dr-x", "deny"}, {"Practitioner/dr-y", "permit"}, {"", "permit"}, {"Practitioner/dr-x", "deny"},
	} {
		d, err := eng.Decide(ctx, in(step.fhirUser))
		if err != nil {
			t.Fatal(err)
		}
		if string(d.Effect) != step.want {
			t.Errorf("fhirUser %q: %s, want %s", step.fhirUser, d.Effect, step.want)
		}
	}
}

package consent

import (
	"strings"
	"testing"
)

// TestForeignDataReadPerRuleQA30B: with the upstream's bases known
// (SetLocalServer), a provision.data reference under another base is read
// as written in every level of a permit rule, so that it matches no item,
// and as Type/id in a deny rule. A deny of another server's record with a
// nested permit for org-a made that permit reach the local record of the
// same Type/id (QA round 30, area B). Not parallel: SetLocalServer is
// process-wide.
func TestForeignDataReadPerRuleQA30B(t *testing.T) {
	SetLocalServer(func(base string) bool { return base == "https://ehr.example/fhir" })
	defer SetLocalServer(nil)
	const tmpl = `{"resourceType":"Consent","id":"c","status":"active","patient":{"reference":"Patient/p1"},
	 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
	 "provision":{"type":"permit","provision":[{"type":"deny","data":[{"meaning":"instance","reference":{"reference":"REF"}}],
	   "provision":[{"type":"permit","actor":[{"role":{"coding":[{"code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}]}]}]}}`
	for _, tt := range []struct {
		ref, deny, permit string
	}{
		{"Condition/c1", "Condition/c1", "Condition/c1"},
		{"https://ehr.example/fhir/Condition/c1", "Condition/c1", "Condition/c1"},
		{"https://ehr.example/fhir/Condition/c1/_history/2", "Condition/c1", "Condition/c1"},
		{"https://hie.example/fhir/Condition/c1", "Condition/c1", "https://hie.example/fhir/Condition/c1"},
		{"https://hie.example/fhir/Condition/c1/_history/2", "Condition/c1", "https://hie.example/fhir/Condition/c1/_history/2"},
	} {
		n, err := Normalize(Record{ID: "c", Version: 1, JSON: []byte(strings.Replace(tmpl, "REF", tt.ref, 1))})
		if err != nil {
			t.Fatalf("%s: %v", tt.ref, err)
		}
		if len(n.Rules) != 3 {
			t.Fatalf("%s: rules %+v", tt.ref, n.Rules)
		}
		for _, r := range n.Rules[1:] {
			want := tt.deny
			if r.Type == "permit" {
				want = tt.permit
			}
			c := r.Conditions[1]
			if len(c.Data) != 1 || c.Data[0] != want || len(c.DataRefs) != 1 || c.DataRefs[0].Reference != want {
				t.Errorf("%s: %s rule %s reads data %v %v, want %s", tt.ref, r.Type, r.Path, c.Data, c.DataRefs, want)
			}
		}
	}
}

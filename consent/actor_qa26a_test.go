package consent

import (
	"slices"
	"strings"
	"testing"
)

// TestDenyOfAbsoluteActorMatchesByTypeID: an upstream consent whose deny
// names an actor by an absolute or versioned reference reaches the policy
// with the actor also as Type/id (the form callers are matched by); a
// permit keeps its reference as written, and a consent being written is
// still refused for it.
func TestDenyOfAbsoluteActorMatchesByTypeID(t *testing.T) {
	const tmpl = `{"resourceType":"Consent","id":"u1","status":"active","patient":{"reference":"Patient/p1"},
	 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},
	 "provision":{"provision":[{"type":"TYPE","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
	   "reference":{"reference":"REF"}}]}]}}`
	for _, ref := range []string{"https://ehr.example/fhir/Organization/o1", "Organization/o1/_history/2", "http://ehr.example/Organization/o1/_history/2"} {
		for _, typ := range []string{"deny", "permit"} {
			raw := strings.NewReplacer("TYPE", typ, "REF", ref).Replace(tmpl)
			n, err := NormalizeUpstream([]byte(raw))
			if err != nil {
				t.Fatalf("%s %s: %v", typ, ref, err)
			}
			got := n.Rules[1].Conditions[1].Actors
			if !slices.Contains(got, ref) {
				t.Errorf("%s %s: actors %q lack the reference as written", typ, ref, got)
			}
			if has := slices.Contains(got, "Organization/o1"); has != (typ == "deny") {
				t.Errorf("%s %s: actors %q; Type/id present %v, want %v", typ, ref, got, has, typ == "deny")
			}
			if _, err := Validate([]byte(raw)); err == nil {
				t.Errorf("%s %s: a written consent naming it was accepted", typ, ref)
			}
		}
	}
}

package consent

import (
	"errors"
	"strings"
	"testing"
)

// TestActorAndDataModifierExtensionRefused: a modifierExtension on a
// provision's actor or data may change what the element means (FHIR: a
// system that does not understand one must not process the element, and
// e.g. an extension saying "everyone but this actor" would turn a permit
// to one recipient into a permit to all others). The provision's own and
// the consent's modifierExtension were refused; the actor's and the
// data's were read as if absent (QA round 26, area A).
func TestActorAndDataModifierExtensionRefused(t *testing.T) {
	const modExt = `"modifierExtension":[{"url":"http://example.org/fhir/StructureDefinition/except","valueBoolean":true}],`
	base := `{"resourceType":"Consent","id":"c1","status":"active","patient":{"reference":"Patient/p1"},
	 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
	 "provision":{"provision":[{"type":"permit",
	   "actor":[{ACTOR"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/o1"}}],
	   "data":[{DATA"meaning":"instance","reference":{"reference":"Condition/c1"}}]}]}}`
	if _, err := Validate([]byte(strings.NewReplacer("ACTOR", "", "DATA", "").Replace(base))); err != nil {
		t.Fatalf("reference consent: %v", err)
	}
	for name, raw := range map[string]string{
		"Consent.provision.provision[0].actor[0].modifierExtension": strings.NewReplacer("ACTOR", modExt, "DATA", "").Replace(base),
		"Consent.provision.provision[0].data[0].modifierExtension":  strings.NewReplacer("ACTOR", "", "DATA", modExt).Replace(base),
	} {
		_, err := Validate([]byte(raw))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: accepted (%v)", name, err)
			continue
		}
		found := false
		for _, p := range ve.Problems {
			found = found || p.Path == name
		}
		if !found {
			t.Errorf("%s: problems %+v", name, ve.Problems)
		}
		if _, err := NormalizeUpstream([]byte(raw)); err == nil {
			t.Errorf("%s: an upstream consent carrying it was read as written", name)
		}
	}
}

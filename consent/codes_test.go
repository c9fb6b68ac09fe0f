package consent

import "testing"

// Every OID of a v3 code system the labeller reads maps to the system's
// current URL, as in labels.NormalizeSystem: a consent's securityLabel
// written with ObservationValue's OID (2.16.840.1.113883.5.1063) was left
// under the OID, so it matched no label.
func TestCurrentSystemOIDs(t *testing.T) {
	t.Parallel()
	for oid, want := range map[string]string{
		"urn:oid:2.16.840.1.113883.5.25":   confidentialitySystem,
		"urn:oid:2.16.840.1.113883.5.4":    actCodeSystem,
		"urn:oid:2.16.840.1.113883.5.8":    actReasonSystem,
		"urn:oid:2.16.840.1.113883.5.1063": observationValueSystem,
	} {
		if got := currentSystem(oid); got != want {
			t.Errorf("%s: %s, want %s", oid, got, want)
		}
	}
}

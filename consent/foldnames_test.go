package consent

import (
	"bytes"
	"strings"
	"testing"
)

// TestWriteRefusesNamesDifferingOnlyInCase: the parse reads names in any
// case and the last wins, readers of the stored JSON the exact name: a
// consent enforced for one patient and showing another is refused.
func TestWriteRefusesNamesDifferingOnlyInCase(t *testing.T) {
	raw := []byte(`{"resourceType":"Consent","status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p2","Reference":"Patient/zzz"},
	"provision":{"type":"deny"}}`)
	if _, err := Validate(raw); err == nil || !strings.Contains(err.Error(), "differ only in case") {
		t.Fatalf("Validate: %v", err)
	}
	ok := bytes.Replace(raw, []byte(`,"Reference":"Patient/zzz"`), nil, 1)
	if _, err := Validate(ok); err != nil {
		t.Fatalf("the same without the second name: %v", err)
	}
}

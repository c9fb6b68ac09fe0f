package audit

import (
	"strings"
	"testing"
)

// TestAccountingDescribesASimulation: a policy simulation's line says the
// data was shown to a policy author; "simulate: disclosed 1 Consent" read
// to a patient or compliance officer as though nothing really went out.
func TestAccountingDescribesASimulation(t *testing.T) {
	t.Parallel()
	e := sample(4, "Patient/a")
	e.Interaction = "simulate"
	e.Disclosed = []Item{{Type: "Consent", ID: "c1", Version: "2", Labels: []string{}}}
	d := DisclosureOf(e).Description
	if !strings.HasPrefix(d, "policy simulation (the data was shown to a policy author") || !strings.Contains(d, "disclosed 1 Consent") {
		t.Errorf("description = %q", d)
	}
}

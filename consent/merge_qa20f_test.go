package consent

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestUnreadableKeepsR5AndPolicyURIs: the stand-in for an upstream consent
// that fails validation carries the policies a valid one would give the
// policy (policies()), R5 included. QA round 20: an R5 opt-out
// (regulatoryBasis OPTOUT) the FHIR server held with a provision.expression
// (refused) became a stand-in with no policies, which the default policy
// applies to restricted data only: the patient's ordinary records were
// disclosed as if the opt-out did not exist.
func TestUnreadableKeepsR5AndPolicyURIs(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "r5", "optout.json"))
	if err != nil {
		t.Fatal(err)
	}
	valid, err := NormalizeUpstream(raw)
	if err != nil {
		t.Fatal(err)
	}
	bad := edit(t, string(raw), `"action":`, `"expression": {"language": "text/fhirpath", "expression": "true"}, "action":`)
	if _, err := NormalizeUpstream([]byte(bad)); err == nil {
		t.Fatal("a provision.expression was accepted")
	}
	n, ok := Unreadable([]byte(bad))
	if !ok || n.Patient != "Patient/p1" || n.Rules[0].Type != "deny" {
		t.Fatalf("stand-in %+v, %v", n, ok)
	}
	for _, p := range valid.Policies {
		if !slices.Contains(n.Policies, p) {
			t.Errorf("stand-in policies %q lack %q, which the valid consent has (%q)", n.Policies, p, valid.Policies)
		}
	}
	if !slices.Contains(n.Policies, "OPTOUT") {
		t.Errorf("stand-in policies %q: the R5 opt-out lost its reach", n.Policies)
	}

	// R4: policy[].uri counts as policyRule does.
	r4 := edit(t, edit(t, tpoConsent, `"actor"`, `"actors"`), `"status": "active",`,
		`"status": "active", "policy": [{"uri": "https://example.org/opt-out"}],`)
	n, ok = Unreadable([]byte(r4))
	if !ok || !slices.Contains(n.Policies, "https://example.org/opt-out") || !slices.Contains(n.Policies, "42CFRPart2") {
		t.Errorf("R4 stand-in policies %q", n.Policies)
	}
}

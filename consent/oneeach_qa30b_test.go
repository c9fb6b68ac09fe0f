package consent

import (
	"strings"
	"testing"
)

// TestOneEachQA30B: of an upstream consent listed three times, the latest
// version is kept and each other active one gives its denies under an id
// of its own (the policy keys consents by id); a withdrawn later version
// wins over the active ones it replaced (QA round 30, area B).
func TestOneEachQA30B(t *testing.T) {
	t.Parallel()
	const optOut = `{"resourceType":"Consent","id":"u1","meta":{"versionId":"V","lastUpdated":"2026-0M-01T00:00:00Z"},"status":"STATUS",
	  "patient":{"reference":"Patient/p1"},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	read := func(v, month, status string) Normalized {
		raw := []byte(strings.NewReplacer("V", v, "0M", month, "STATUS", status).Replace(optOut))
		if status != "active" {
			n, ok := Withdrawn(raw)
			if !ok {
				t.Fatal("not withdrawn")
			}
			return n
		}
		n, err := NormalizeUpstream(raw)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	list := []Normalized{read("1", "01", "active"), read("1", "01", "active"), read("3", "03", "inactive"), read("2", "02", "active")}
	keep, denies := OneEach(list)
	if len(keep) != 1 || keep[0] != 2 || !list[2].Gone() {
		t.Errorf("kept %v, want [2] (the withdrawal)", keep)
	}
	ids := map[string]bool{}
	for _, d := range denies {
		if !d.DenyOnly || ids[d.ID] || !strings.HasPrefix(d.ID, "upstream:u1/_history/") {
			t.Errorf("deny-only reading %s (deny-only %v)", d.ID, d.DenyOnly)
		}
		ids[d.ID] = true
	}
	if len(denies) != 3 {
		t.Errorf("%d deny-only readings, want 3", len(denies))
	}
}

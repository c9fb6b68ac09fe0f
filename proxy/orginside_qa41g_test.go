package proxy

import (
	"strings"
	"testing"
)

// TestOrgClaimInvisibleInsideQA41G: p1 opted out of disclosure to org-b.
// 0c07460 trims blanks and invisible characters around the org and
// org_identifiers claims, but one inside the value (a claim template
// "Organization/{org}" over an attribute holding "\u200borg-b", a soft
// hyphen, a byte-order mark or word joiner in the id) still named no one a
// consent names: org-b read p1's Observation (200) where the plain claim
// gets 404. Characters that show nothing are dropped wherever they stand.
func TestOrgClaimInvisibleInsideQA41G(t *testing.T) {
	t.Parallel()
	byRef, byNPI := orgDenyReaders(t) // orgblank_qa41d_test.go
	for _, org := range []string{"Organization/\u200borg-b", "Organization/org\u00ad-b", "Organization\u2060/org-b", "Organization/org-\ufeffb"} {
		if code, body := byRef(map[string]any{"org": org}); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("org %q: %d %.100s, want 404 (the patient's deny)", org, code, body)
		}
	}
	for _, id := range []string{npiSystem + "|\u200b1234567893", npiSystem + "\u200b|1234567893", npiSystem + "|12345\u00ad67893"} {
		if code, body := byNPI(map[string]any{"org": "Organization/org-x", "org_identifiers": []any{id}}); code != 404 || strings.Contains(body, `"o1"`) {
			t.Errorf("org_identifiers [%q]: %d %.100s, want 404 (the patient's deny)", id, code, body)
		}
	}
}

package proxy

import (
	"testing"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
)

// TestConsentKeyAllocationsQA37Q: the consent key is made on every read
// (consentsOf); for a patient with one stored consent or none it takes
// one allocation, the key's string, and names the versions as
// policy.ConsentKey does (QA round 37, area Q).
func TestConsentKeyAllocationsQA37Q(t *testing.T) {
	n := &consent.Normalized{ID: "c-0f3a9d6e-5b1c-4d2e-8f7a-1b2c3d4e5f60", Version: "12"}
	for _, tc := range []struct {
		values []any
		want   []policy.ConsentVersion
	}{
		{[]any{}, nil},
		{[]any{n}, []policy.ConsentVersion{{ID: n.ID, Version: n.Version}}},
		{[]any{*n}, []policy.ConsentVersion{{ID: n.ID, Version: n.Version}}},
		{[]any{n, &consent.Normalized{ID: "c2", Version: "1"}}, []policy.ConsentVersion{{ID: "c2", Version: "1"}, {ID: n.ID, Version: n.Version}}},
	} {
		if got, want := consentKey(tc.values), policy.ConsentKey(tc.want); got != want {
			t.Errorf("consentKey of %d consents = %q, want %q", len(tc.values), got, want)
		}
		if len(tc.values) > 1 {
			continue
		}
		if a := testing.AllocsPerRun(100, func() { _ = consentKey(tc.values) }); a > 1 {
			t.Errorf("consentKey of %d consents: %v allocations, want at most 1", len(tc.values), a)
		}
	}
	if got := consentKey([]any{n, "not a consent"}); got != "" {
		t.Errorf("consentKey of a value of an unknown form = %q, want empty (no cross-request cache)", got)
	}
}

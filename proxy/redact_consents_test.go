package proxy

import (
	"context"
	"slices"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// consentEffectDecider permits items without labels and answers the
// others with effect on the SUD label, relying on consent c1 version 3.
type consentEffectDecider string

func (d consentEffectDecider) Decide(_ context.Context, in policy.Input) (policy.Decision, error) {
	if len(in.Item.Labels) == 0 {
		return policy.Decision{Effect: policy.Permit, Reasons: []policy.Reason{}}, nil
	}
	dec := policy.Decision{Effect: string(d), Reasons: []policy.Reason{{Rule: "consent-permit", Consent: "c1", Version: "3"}}}
	if d == policy.Redact {
		dec.Redact = []string{labels.SystemActCode + "|SUD"}
	} else {
		dec.Mask = []string{labels.SystemActCode + "|SUD"}
	}
	return dec, nil
}
func (consentEffectDecider) Revision() string { return "consent-effect" }

// TestPartialDisclosureRecordsItsConsents: a resource disclosed with
// elements cut (redact) or masked (mask) under a consent names that
// consent's version in the ledger, as a whole disclosure does. QA round 16:
// only a permit's consents were recorded.
func TestPartialDisclosureRecordsItsConsents(t *testing.T) {
	t.Parallel()
	for _, effect := range []string{policy.Redact, policy.Mask} {
		h := newHarness(t, fhirJSONHandler(200, mixedEOB), func(_ *Options, d *Deps) { d.Decider = consentEffectDecider(effect) })
		resp, body := h.get("/fhir/ExplanationOfBenefit/eob1", tokConsented)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", effect, resp.StatusCode, body)
		}
		h.ledger.mu.Lock()
		if len(h.ledger.entries) != 1 || len(h.ledger.entries[0].Redacted) != 1 ||
			!slices.Equal(h.ledger.entries[0].Consents, []audit.ConsentRef{{ID: "c1", Version: "3"}}) {
			t.Errorf("%s: ledger %+v, want the redaction and consent c1 version 3", effect, h.ledger.entries)
		}
		h.ledger.mu.Unlock()
	}
}

package proxy

import (
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
)

// policyForm is a normalised consent as the policy input carries it. It
// implements policy.ConsentForm: the engine maps it to policy.Consent and
// builds its policy form directly, and only when it has not converted these
// consent versions before; a consent.Normalized would instead be converted
// generically, through a JSON round trip (~36 µs for a one-provision Part 2
// consent). Its JSON encoding is consent.Normalized's.
type policyForm consent.Normalized

// PolicyConsent maps the consent to the policy's type, field by field
// (TestPolicyFormMatchesNormalized keeps the two in step).
func (f *policyForm) PolicyConsent() *policy.Consent {
	n := (*consent.Normalized)(f)
	c := &policy.Consent{
		ID: n.ID, Version: n.Version, Status: n.Status, Patient: n.Patient,
		Policies: n.Policies, Start: n.Start, End: n.End,
		RootTypeFrom: n.RootTypeFrom, Source: n.Source, DenyOnly: n.DenyOnly, Unreadable: n.Unreadable,
	}
	if n.Rules != nil {
		c.Rules = make([]policy.ConsentRule, len(n.Rules))
	}
	for i, r := range n.Rules {
		pr := policy.ConsentRule{Path: r.Path, Depth: r.Depth, Type: r.Type}
		if r.Conditions != nil {
			pr.Conditions = make([]policy.ConsentCond, len(r.Conditions))
		}
		for j, k := range r.Conditions {
			pc := policy.ConsentCond{
				Actors: k.Actors, Roles: k.Roles, Purposes: k.Purposes, Labels: k.Labels,
				Classes: k.Classes, Codes: k.Codes, Actions: k.Actions,
				Start: k.Start, End: k.End, DataStart: k.DataStart, DataEnd: k.DataEnd, Data: k.Data,
			}
			if k.DataRefs != nil {
				pc.DataRefs = make([]policy.ConsentDataRef, len(k.DataRefs))
				for d, ref := range k.DataRefs {
					pc.DataRefs[d] = policy.ConsentDataRef{Reference: ref.Reference, Meaning: ref.Meaning}
				}
			}
			pr.Conditions[j] = pc
		}
		c.Rules[i] = pr
	}
	return c
}

// policyValues returns values with each normalised consent as a policyForm
// (the same consent, no copy), for the policy input.
func policyValues(values []any) []any {
	out := make([]any, len(values))
	for i, v := range values {
		switch n := v.(type) {
		case *consent.Normalized:
			out[i] = (*policyForm)(n)
		case consent.Normalized:
			out[i] = (*policyForm)(&n)
		default:
			out[i] = v
		}
	}
	return out
}

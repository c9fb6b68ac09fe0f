package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ds4p/ds4p/rego"
	"github.com/open-policy-agent/opa/v1/ast"
)

// plainConsent is Consent without its direct conversion: the engine
// converts it generically (a JSON round trip), as it would any struct.
type plainConsent Consent

// formConsent gives its policy form when asked (ConsentForm).
type formConsent Consent

func (f *formConsent) PolicyConsent() *Consent { return (*Consent)(f) }

// TestConsentFormMatchesGeneric: a *Consent or a ConsentForm converts to
// exactly the policy form the generic path builds from the same consent's
// JSON (compacted, indexed, other patients' left out), with the same
// bounds and criteria, and the engine decides the same on either.
func TestConsentFormMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	ctx := context.Background()
	eng, err := New(ctx, rego.FS(), WithDecisionCache(0))
	if err != nil {
		t.Fatal(err)
	}
	for n := range 3000 {
		var direct, viaForm, generic, viaMap []any
		for range rng.IntN(4) {
			c := randomConsent(rng)
			direct = append(direct, c)
			viaForm = append(viaForm, (*formConsent)(c))
			generic = append(generic, (*plainConsent)(c))
			raw, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any // numbers as JSON gives them, not float64
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			viaMap = append(viaMap, m)
		}
		patient := []string{"", "Patient/p1", "Patient/p2"}[rng.IntN(3)]
		index := rng.IntN(2) == 0
		want, err := newConsentSet(generic, patient, index)
		if err != nil {
			t.Fatal(err)
		}
		for name, cs := range map[string][]any{"*Consent": direct, "ConsentForm": viaForm, "map": viaMap} {
			got, err := newConsentSet(cs, patient, index)
			if err != nil {
				t.Fatal(err)
			}
			if got.value.Compare(want.value) != 0 {
				t.Fatalf("case %d, %s, patient %q, index %v:\n got  %v\n want %v", n, name, patient, index, got.value, want.value)
			}
			if !reflect.DeepEqual(got.criteria, want.criteria) {
				t.Fatalf("case %d, %s: criteria %v, want %v", n, name, got.criteria, want.criteria)
			}
		}
		if n%10 == 0 {
			in := randomContext(rng, n)
			in.Patient, in.ConsentKey = "Patient/p1", ""
			in.Item = randomClass(rng)
			in.Consents = generic
			d1, err1 := eng.Decide(ctx, in)
			in.Consents = direct
			d2, err2 := eng.Decide(ctx, in)
			if (err1 != nil) != (err2 != nil) || !reflect.DeepEqual(d1, d2) {
				t.Fatalf("case %d: generic %+v (%v), direct %+v (%v)", n, d1, err1, d2, err2)
			}
		}
	}
}

// TestConsentWithoutRules: a consent object without rules is kept as it
// is, not indexed (it once made the index panic).
func TestConsentWithoutRules(t *testing.T) {
	c := map[string]any{"id": "c1", "version": "1", "status": "active", "patient": "Patient/p1"}
	cs, err := newConsentSet([]any{c}, "Patient/p1", true)
	if err != nil {
		t.Fatal(err)
	}
	want := ast.MustInterfaceToValue([]any{c})
	if cs.value.Compare(want) != 0 {
		t.Fatalf("got %v, want %v", cs.value, want)
	}
}

// randomConsent draws a consent over every field of the form: lists nil,
// empty or not, times zero or not, data with and without data_refs,
// levels that state nothing, rules or conditions missing.
func randomConsent(rng *rand.Rand) *Consent {
	const act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	const now = int64(1767225600000000000)
	list := func(opts ...string) []string {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		var out []string
		for _, o := range opts {
			if rng.IntN(2) == 0 {
				out = append(out, o)
			}
		}
		if out == nil {
			out = []string{opts[0]}
		}
		return out
	}
	when := func() int64 { return []int64{0, 0, now - 1e12, now + 1e12, 7}[rng.IntN(5)] }
	c := &Consent{
		ID: fmt.Sprintf("c%d", rng.IntN(5)), Version: fmt.Sprint(1 + rng.IntN(3)),
		Status:   []string{"active", "inactive", "draft"}[rng.IntN(3)],
		Patient:  []string{"Patient/p1", "Patient/p1", "Patient/p2"}[rng.IntN(3)],
		Policies: list("42CFRPart2", "OPTOUT", "OPTIN"), Start: when(), End: when(),
		RootTypeFrom: []string{"provision.type", "policyRule", "default"}[rng.IntN(3)],
		Source:       []string{"", "", "upstream"}[rng.IntN(3)],
		DenyOnly:     rng.IntN(4) == 0, Unreadable: rng.IntN(6) == 0,
	}
	if rng.IntN(10) == 0 {
		return c // rules null
	}
	c.Rules = []ConsentRule{}
	for d := range rng.IntN(4) {
		r := ConsentRule{Path: fmt.Sprintf("provision%d", d), Depth: d, Type: []string{"permit", "deny"}[rng.IntN(2)]}
		if rng.IntN(10) != 0 {
			r.Conditions = []ConsentCond{}
			for range 1 + rng.IntN(3) {
				cond := ConsentCond{
					Actors:   list("Organization/org-a", "Organization/org-b", "urn:oid:1|a"),
					Roles:    list("IRCP", "AUT"),
					Purposes: list("TREAT", "HPAYMT", "ETREAT"),
					Labels:   list(act+"SUD", act+"42CFRPart2", act+"PSY"),
					Classes:  list("Observation", "Condition"),
					Codes:    list("http://snomed.info/sct|1", "http://loinc.org|2"),
					Actions:  list("disclose", "access"),
					Start:    when(), End: when(), DataStart: when(), DataEnd: when(),
					Data: list("Observation/o1", "Condition/c2"),
				}
				if rng.IntN(3) == 0 {
					cond.DataRefs = []ConsentDataRef{{Reference: "Observation/o1", Meaning: "instance"}}
				} else if rng.IntN(2) == 0 {
					cond.DataRefs = []ConsentDataRef{}
				}
				if rng.IntN(4) == 0 {
					cond = ConsentCond{} // a level that states nothing
				}
				r.Conditions = append(r.Conditions, cond)
			}
		}
		c.Rules = append(c.Rules, r)
	}
	return c
}

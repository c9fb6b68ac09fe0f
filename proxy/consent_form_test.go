package proxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
)

// TestPolicyFormMatchesNormalized: the policy.Consent a normalised consent
// maps to encodes to the same JSON as the consent itself, with every field
// set (a field added to consent.Normalized and not mapped fails this),
// with every field zero (nil lists stay null), and with lists empty.
func TestPolicyFormMatchesNormalized(t *testing.T) {
	var full consent.Normalized
	fill(reflect.ValueOf(&full).Elem(), 2, new(int))
	var empty consent.Normalized
	fill(reflect.ValueOf(&empty).Elem(), 0, new(int))
	for name, n := range map[string]consent.Normalized{"every field set": full, "zero": {}, "lists empty": empty} {
		want, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal((*policyForm)(&n).PolicyConsent())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got  %s\n want %s", name, got, want)
		}
		// The input's own encoding (ds4p policy eval, explanations) is
		// the consent's too.
		if enc, _ := json.Marshal(policyValues([]any{&n})[0]); !bytes.Equal(enc, want) {
			t.Errorf("%s: the policy value encodes as %s", name, enc)
		}
	}
	if _, ok := policyValues([]any{&full})[0].(policy.ConsentForm); !ok {
		t.Fatal("a normalised consent does not reach the engine as a policy.ConsentForm")
	}
}

// fill sets every exported field of v: strings and numbers to values
// distinct from every other field's (*seq counts), bools to true, and
// slices to n elements, filled the same way.
func fill(v reflect.Value, n int, seq *int) {
	*seq++
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n, seq)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(v.Index(i), n, seq)
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *seq))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*seq))
	case reflect.Bool:
		v.SetBool(true)
	}
}

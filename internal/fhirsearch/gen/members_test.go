package main

import (
	"slices"
	"testing"
)

func TestExpressionMembers(t *testing.T) {
	for _, c := range []struct {
		expr, base string
		want       []string // nil: every member
	}{
		{"(Observation.value.ofType(Quantity)) | (Observation.value.ofType(SampledData))", "Observation", []string{"value"}},
		{"(Observation.value as Quantity) | (Observation.value as SimpleQuantity)", "Observation", []string{"value"}},
		{"AllergyIntolerance.code | AllergyIntolerance.reaction.substance | Condition.code", "AllergyIntolerance", []string{"code", "reaction"}},
		{"AllergyIntolerance.code | AllergyIntolerance.reaction.substance | Condition.code", "Condition", []string{"code"}},
		{"Observation.subject.where(resolve() is Patient)", "Observation", []string{"subject"}},
		{"Observation.component.where(code = Observation.code).value", "Observation", []string{"code", "component"}},
		{"Patient.deceased.exists() and Patient.deceased != false", "Patient", []string{"deceased"}},
		{"name | alias", "InsurancePlan", []string{"alias", "name"}},
		{"Resource.meta.security", "Observation", []string{"meta"}},
		{"Bundle.entry[0].resource", "Bundle", []string{"entry"}},
		{"Observation.identifier.where(system = 'http://x|y')", "Observation", []string{"identifier"}},
		// fail closed
		{"", "Observation", nil},
		{"Observation", "Observation", nil},
		{"Observation | Observation.component", "Observation", nil},
		{"Condition.code", "Observation", nil},
		{"Observation.where(code.exists())", "Observation", nil},
		{"iif(code.exists(), code, category)", "Observation", nil},
		{"%resource.code", "Observation", nil},
		{"$this.code", "Observation", nil},
		{"Observation.extension('http://x').value", "Observation", nil},
		{"Observation.`value`", "Observation", nil},
		{"(Observation.code", "Observation", nil},
		{"Observation.code)", "Observation", nil},
		{"Observation.code = 'x", "Observation", nil},
		{"Observation.", "Observation", nil},
	} {
		got, any := expressionMembers(c.expr, c.base)
		if any != (c.want == nil) || !slices.Equal(got, c.want) {
			t.Errorf("%s on %s: %v any=%v, want %v", c.expr, c.base, got, any, c.want)
		}
	}
}

package fhirsearch

import (
	"slices"
	"testing"
)

func TestKnownEntries(t *testing.T) {
	for _, c := range []struct {
		typ, code, kind string
		any             bool
		targets         []string
	}{
		{"List", "item", "reference", true, nil},
		{"Observation", "focus", "reference", true, nil},
		{"DocumentReference", "related", "reference", true, nil},
		{"Encounter", "diagnosis", "reference", false, []string{"Condition", "Procedure"}},
		{"Observation", "patient", "reference", false, []string{"Patient"}},
		{"Observation", "subject", "reference", false, []string{"Device", "Group", "Location", "Patient"}},
		{"DiagnosticReport", "result", "reference", false, []string{"Observation"}},
		{"Observation", "code", "token", false, nil},
		{"Condition", "_id", "token", false, nil},
		{"Patient", "_text", "string", false, nil},
	} {
		p, ok := Lookup(c.typ, c.code)
		if !ok || p.Type != c.kind || p.Any != c.any || !slices.Equal(p.Targets, c.targets) {
			t.Errorf("%s.%s: %+v %v", c.typ, c.code, p, ok)
		}
	}
	if p, _ := Lookup("List", "item"); len(p.TargetTypes()) != len(ResourceTypes()) || !slices.Contains(p.TargetTypes(), "Condition") {
		t.Errorf("List.item targets %d types", len(p.TargetTypes()))
	}
	if n := len(ResourceTypes()); n != 145 || !KnownType("Condition") || KnownType("Resource") || KnownType("Bot") {
		t.Errorf("%d resource types", n)
	}
	for _, c := range [][2]string{{"Observation", "nope"}, {"Bot", "item"}, {"", "item"}} {
		if _, ok := Lookup(c[0], c[1]); ok {
			t.Errorf("%s.%s found", c[0], c[1])
		}
	}
}

func TestLookupAnyType(t *testing.T) {
	if p, ok := LookupAnyType("item"); !ok || !p.Any {
		t.Errorf("item: %+v", p)
	}
	// diagnosis is a reference in Encounter and EpisodeOfCare.
	if p, ok := LookupAnyType("diagnosis"); !ok || !p.IsReference() || !slices.Contains(p.Targets, "Condition") {
		t.Errorf("diagnosis: %+v", p)
	}
	// focus is a token in some types, a reference to anything in others.
	if p, ok := LookupAnyType("focus"); !ok || !p.Any {
		t.Errorf("focus: %+v", p)
	}
	if p, ok := LookupAnyType("code"); !ok || p.IsReference() {
		t.Errorf("code: %+v", p)
	}
	if _, ok := LookupAnyType("nope"); ok {
		t.Error("nope found")
	}
}

func TestMembers(t *testing.T) {
	for _, c := range []struct {
		typ, code string
		reads     []string
		not       []string
	}{
		{"Observation", "value-quantity", []string{"valueQuantity", "_valueQuantity", "valueSampledData", "value"}, []string{"code", "component", "effectiveDateTime"}},
		{"Observation", "code", []string{"code", "_code"}, []string{"valueQuantity", "component"}},
		{"Observation", "component-value-quantity", []string{"component"}, []string{"valueQuantity"}},
		{"Observation", "has-member", []string{"hasMember"}, []string{"derivedFrom"}},
		{"Observation", "patient", []string{"subject"}, []string{"performer"}},
		{"Observation", "_lastUpdated", []string{"meta"}, []string{"code"}},
		{"Condition", "_id", []string{"id"}, []string{"code"}},
		{"Observation", "code-value-quantity", []string{"code", "valueQuantity", "anything"}, nil},
		{"Patient", "_text", []string{"text", "name"}, nil},
	} {
		p, ok := Lookup(c.typ, c.code)
		if !ok {
			t.Fatalf("%s.%s not found", c.typ, c.code)
		}
		for _, k := range c.reads {
			if !p.ReadsKey(k) {
				t.Errorf("%s.%s does not read %s (%+v)", c.typ, c.code, k, p)
			}
		}
		for _, k := range c.not {
			if p.ReadsKey(k) {
				t.Errorf("%s.%s reads %s (%+v)", c.typ, c.code, k, p)
			}
		}
	}
	// A parameter of several types, as a system-level search reads it:
	// which members, by type, is not told.
	if p, _ := LookupAnyType("focus"); !p.AnyMember {
		t.Errorf("focus of any type: %+v", p)
	}
}

func TestReferenceMembers(t *testing.T) {
	ms, any := ReferenceMembers("Observation", "Patient")
	if any || !MembersReadKey(ms, "subject") || !MembersReadKey(ms, "performer") || MembersReadKey(ms, "valueQuantity") || MembersReadKey(ms, "code") {
		t.Errorf("Observation -> Patient: %v %v", ms, any)
	}
}

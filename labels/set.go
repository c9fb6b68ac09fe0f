package labels

import (
	"cmp"
	"slices"
	"strings"
)

// Label is one security label: a code in a code system.
type Label struct {
	System, Code string
}

// String returns "system|code", the FHIR token search form.
func (l Label) String() string {
	return l.System + "|" + l.Code
}

// normalized returns l with a legacy system replaced by its current URL.
func (l Label) normalized() Label {
	l.System = NormalizeSystem(l.System)
	return l
}

// compare orders labels by system, then code.
func compare(a, b Label) int {
	if c := cmp.Compare(a.System, b.System); c != 0 {
		return c
	}
	return cmp.Compare(a.Code, b.Code)
}

// Set is a sorted list of unique labels with normalised systems. Build one
// with NewSet or Union; the zero value is the empty set.
type Set []Label

// NewSet returns the set of ls, with legacy systems normalised.
func NewSet(ls ...Label) Set {
	if len(ls) == 0 {
		return nil
	}
	s := make(Set, len(ls))
	for k, l := range ls {
		s[k] = l.normalized()
	}
	slices.SortFunc(s, compare)
	return slices.Compact(s)
}

// Has reports whether s holds l (legacy systems match their current form).
func (s Set) Has(l Label) bool {
	_, found := slices.BinarySearchFunc(s, l.normalized(), compare)
	return found
}

// Union returns the labels in s or o. It returns s itself when o adds
// nothing, so callers can compare with Equal cheaply.
func (s Set) Union(o Set) Set {
	if len(o) == 0 || s.contains(o) {
		return s
	}
	if len(s) == 0 {
		return o
	}
	out := make(Set, 0, len(s)+len(o))
	i, j := 0, 0
	for i < len(s) && j < len(o) {
		switch c := compare(s[i], o[j]); {
		case c < 0:
			out, i = append(out, s[i]), i+1
		case c > 0:
			out, j = append(out, o[j]), j+1
		default:
			out, i, j = append(out, s[i]), i+1, j+1
		}
	}
	return append(append(out, s[i:]...), o[j:]...)
}

// contains reports whether every label of o is in s.
func (s Set) contains(o Set) bool {
	for _, l := range o {
		if !s.Has(l) {
			return false
		}
	}
	return true
}

// Equal reports whether s and o hold the same labels.
func (s Set) Equal(o Set) bool {
	return slices.Equal(s, o)
}

// Key returns a stable string that identifies the set, for grouping
// resources into decision classes: the labels' String forms joined by
// commas, in order.
func (s Set) Key() string {
	var sb strings.Builder
	for k, l := range s {
		if k > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(l.System)
		sb.WriteByte('|')
		sb.WriteString(l.Code)
	}
	return sb.String()
}

// Confidentiality returns the most restrictive confidentiality code in s
// (V > R > N > M > L > U) and whether there is one.
func (s Set) Confidentiality() (string, bool) {
	best := -1
	for _, l := range s {
		if l.System == SystemConfidentiality {
			best = max(best, ConfidentialityRank(l.Code))
		}
	}
	if best < 0 {
		return "", false
	}
	return confidentialityOrder[best : best+1], true
}

// highWater returns s keeping only its most restrictive confidentiality
// label; unknown codes in the confidentiality system are kept. It returns s
// itself when nothing is dropped.
func (s Set) highWater() Set {
	code, ok := s.Confidentiality()
	if !ok {
		return s
	}
	drop := func(l Label) bool { return isConfidentiality(l) && l.Code != code }
	if !slices.ContainsFunc(s, drop) {
		return s
	}
	return slices.DeleteFunc(slices.Clone(s), drop)
}

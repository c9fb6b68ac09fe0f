package labels

import (
	"fmt"
)

// maxRounds bounds how far labels travel along chains of references in
// one batch (Observation → Encounter → Condition is two).
const maxRounds = 8

// inheritable returns the labels of s that a referring resource inherits:
// confidentiality, and v3-ActCode sensitivity, policy and refrain codes;
// obligations (REDACT, PROCESSINLINELABEL ...) and other systems stay
// with the resource that has them. Like Union, it returns s itself (its
// capacity clipped) when every label of s is inheritable, so that
// propagation allocates nothing for the usual target.
func inheritable(s Set) Set {
	n := 0
	for _, lb := range s {
		if inheritableLabel(lb) {
			n++
		}
	}
	switch n {
	case 0:
		return nil
	case len(s):
		return s[:n:n]
	}
	out := make(Set, 0, n)
	for _, lb := range s {
		if inheritableLabel(lb) {
			out = append(out, lb)
		}
	}
	return out
}

func inheritableLabel(lb Label) bool {
	return isConfidentiality(lb) || (lb.System == SystemActCode && !obligationCodes[lb.Code])
}

// LabelAll labels a batch of resources (the resources of one response)
// and then propagates labels along the references between them, and from
// the cache to them:
//
//   - content references (reasonReference, addresses, basedOn, evidence,
//     hasMember, result, focus, target, derivedFrom, diagnosis, partOf,
//     supportingInfo, detail, entity, concern, activity, investigation,
//     reason): the referring resource inherits every inheritable label of
//     the target (see inheritable);
//   - context references (encounter, context, episodeOfCare): the
//     referring resource inherits the Part 2 labels of a target that is a
//     Part 2 record, and nothing else.
//
// Labels flow from the target to the resource holding the reference,
// never back. Chains are followed up to 8 references deep. Every resource
// of the batch is then noted in the cache (when the Labeller has one), so
// that later responses inherit from it. The error names the index of a
// resource that could not be labelled.
func (l *Labeller) LabelAll(resources [][]byte) ([]Result, error) {
	return l.labelAll(resources, false)
}

// LabelAllValid is LabelAll for resources that fjson.Validate accepted, each
// on its own or as part of a body it accepted (the proxy validates every
// upstream body whole first). It returns what LabelAll returns, in about
// half the time: the walk no longer checks the JSON a second time, it only
// finds where keys and values end. On input Validate would refuse it never
// panics, but its results are unspecified: use LabelAll there.
func (l *Labeller) LabelAllValid(resources [][]byte) ([]Result, error) {
	return l.labelAll(resources, true)
}

func (l *Labeller) labelAll(resources [][]byte, valid bool) ([]Result, error) {
	out := make([]Result, len(resources))
	links := false
	arena := make([]link, 0, 2*len(resources))
	var strs strArena
	var reasons []Reason
	for k, b := range resources {
		r, err := l.label(b, &arena, &strs, &reasons, valid)
		if err != nil {
			return nil, fmt.Errorf("labels: resource %d: %w", k, err)
		}
		out[k] = r
		links = links || len(r.links) > 0
	}
	if links {
		l.propagate(resources, out)
	}
	if l.cache != nil {
		for k := range out {
			l.cache.note(&out[k])
		}
	}
	return out, nil
}

// batchIndex finds resources of the batch by type and id without
// allocating per lookup.
type batchIndex map[string]map[string]int

func indexBatch(rs []Result) batchIndex {
	ix := batchIndex{}
	for k := range rs {
		r := &rs[k]
		if r.Type == "" || r.ID == "" {
			continue
		}
		byID := ix[r.Type]
		if byID == nil {
			byID = map[string]int{}
			ix[r.Type] = byID
		}
		byID[r.ID] = k
	}
	return ix
}

// inherited is what a link's target passes on.
type inherited struct {
	labels  Set
	program string
}

// lookup returns what the target "Type/id" of a link passes on.
func (l *Labeller) lookup(ix batchIndex, rs []Result, key []byte, typLen int) (inherited, bool) {
	if k, ok := ix[string(key[:typLen])][string(key[typLen+1:])]; ok {
		return inherited{labels: inheritable(rs[k].Effective()), program: rs[k].Program}, true
	}
	if l.cache != nil {
		if e, ok := l.cache.get(key); ok {
			return inherited{labels: e.labels, program: e.program}, true
		}
	}
	return inherited{}, false
}

// propagate runs the rounds of LabelAll's propagation.
func (l *Labeller) propagate(resources [][]byte, rs []Result) {
	ix := indexBatch(rs)
	for range maxRounds {
		changed := false
		for k := range rs {
			for _, lk := range rs[k].links {
				if l.inherit(ix, resources[k], rs, k, lk) {
					changed = true
				}
			}
		}
		if !changed {
			return
		}
	}
}

// inherit applies one link of resource k; it reports whether labels were
// added.
func (l *Labeller) inherit(ix batchIndex, b []byte, rs []Result, k int, lk link) bool {
	key, typLen := lk.target(b)
	if key == nil {
		return false
	}
	t, ok := l.lookup(ix, rs, key, typLen)
	if !ok || len(t.labels) == 0 {
		return false
	}
	add := t.labels
	part2 := t.labels.Has(Part2Policy)
	if lk.kind == refContext {
		if !part2 {
			return false
		}
		add = part2Labels
	}
	r := &rs[k]
	elem := lk.kind == refContent && lk.elem.segmentableIn(r.Type)
	if !elem && lk.elementOnly {
		return false
	}
	before := r.Effective()
	if elem {
		if !r.addElem(lk.elem, add) {
			return false
		}
	} else {
		merged := r.derived.Union(add)
		if merged.Equal(r.derived) {
			return false
		}
		r.derived = merged
		if part2 && r.Program == "" {
			r.Program = t.program
		}
	}
	r.settle(b)
	r.Reasons = appendPropagatedReasons(r.Reasons, lk, string(key), before, r.Effective(), add, part2, elem)
	return true
}

// appendPropagatedReasons appends to out why the labels of add that are in
// after and were not in before were added.
func appendPropagatedReasons(out []Reason, lk link, matched string, before, after, add Set, part2, elem bool) []Reason {
	var element string
	if elem {
		element = lk.elem.path()
	}
	for _, lb := range add {
		if before.Has(lb) || !after.Has(lb) {
			continue
		}
		rule, ok := propagatedRules[lk.member]
		if !ok {
			rule = "propagated:" + lk.member
		}
		reason := Reason{Label: lb, Rule: rule, Matched: matched, Path: lk.member, Element: element}
		if part2 {
			reason.Basis = Part2Policy.Code
		}
		out = append(out, reason)
	}
	return out
}

// propagatedRules are the Reason.Rule of the members that propagate.
var propagatedRules = func() map[string]string {
	m := map[string]string{}
	for k := range refMembers {
		m[k] = "propagated:" + k
	}
	return m
}()

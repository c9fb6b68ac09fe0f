package proxy

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// Contained resources. Each resource in a container's contained array is
// labelled on its own (its existing meta.security, its codes, its source)
// and decided as its own class: its type, its labels with its element
// labels applied to it whole, and its own patient or, when it names none,
// the container's. The rule is simple and fails closed:
//
//   - a container that names no patient (a Parameters) is decided for the
//     one patient its resources name, if they name one;
//   - the container carries the contained resources' sensitivity: their
//     confidentiality, sensitivity, policy and refrain labels are added to
//     the container's labels before it is decided;
//   - when any contained resource is withheld, the whole container is
//     withheld (a read answers 404): the container's references ("#id"),
//     narrative and codes could otherwise still tell about it;
//   - a disclosed contained resource gets its labels and the obligations of
//     its decision (42CFRPart2, NORDSCLCD) in its own meta.security;
//   - inline-labelled elements inside contained resources are redacted as
//     elements of the container.
//
// The resources a Parameters carries (parameter[].resource, also inside
// part[]), as operations answer, are treated the same way.

var (
	containedKey      = []byte(`"contained"`)
	parametersKey     = []byte(`"Parameters"`)
	errContainedShape = errors.New("a contained resource is not an object")
)

// findContained records the contained resources of each item.
func (r *run) findContained() error {
	for _, it := range r.items {
		if it.scanned { // collect found its type and contained array
			if err := r.containedOf(it); err != nil {
				return err
			}
			continue
		}
		// The byte searches below only skip work: with any escape in the
		// resource, "cont\u0061ined" or "P\u0061rameters" could hide
		// from them, so such a resource is looked at member by member.
		seg := r.body[it.start:it.end]
		escaped := bytes.IndexByte(seg, '\\') >= 0
		if escaped || bytes.Contains(seg, parametersKey) {
			if rt, err := r.resourceType(it.start); err != nil {
				return err
			} else if rt == "Parameters" {
				// Its contained array is read below too (containedOf).
				if err := r.findParameterResources(it, it.start, 0, 0); err != nil {
					return asFailure(err)
				}
			}
		}
		if !escaped && !bytes.Contains(seg, containedKey) {
			continue
		}
		s, _, ok, err := fjson.Lookup(r.body, it.start, "contained")
		if err != nil {
			return asFailure(err)
		}
		if !ok {
			continue
		}
		if err := r.recordContained(it, s); err != nil {
			return asFailure(err)
		}
	}
	return nil
}

// recordContained records the contained resources of it, whose contained
// member's value starts at s: the objects of the array, or the value
// itself when it is one object rather than an array of one (invalid FHIR
// JSON, but a server may store it, and other readers take it as the
// array's one resource). Skipped, such a resource was neither labelled
// nor decided on its own: its own labels (a Condition its EHR labelled
// SUD in its meta.security) were read as nothing, and the container went
// out with it (QA round 34, area A).
func (r *run) recordContained(it *item, s int) error {
	switch r.body[s] {
	case '{':
		e, err := fjson.SkipValue(r.body, s)
		if err != nil {
			return err
		}
		return r.addContained(it, s, e, 0)
	case '[':
		return fjson.ArrayEach(r.body, s, func(vs, ve int) error {
			if r.body[vs] != '{' {
				return errContainedShape
			}
			return r.addContained(it, vs, ve, 0)
		})
	}
	return nil
}

// addContained records the resource at [vs, ve) as one contained in it,
// and, when it is a Bundle or a Parameters, each resource it carries (in
// its entries, its parameters and parts, and in those of the Bundles and
// Parameters among them): each is labelled on its own as a contained
// resource is. Labelled as one resource, a contained Bundle or Parameters
// counted only its own meta.security, and a Condition its EHR labelled R
// in its own, with no code a rule matches, went to org-b inside the
// Observation containing it (QA round 37, area A).
//
// A resource it holds may have a contained array of its own (a Bundle
// entry's or a parameter's Observation, validly; a contained resource, in
// invalid FHIR a server may store): its resources are recorded the same
// way. Skipped, a Condition labelled R in such an array went to org-b
// (QA round 37, area E).
func (r *run) addContained(it *item, vs, ve, depth int) error {
	it.contained = append(it.contained, &item{start: vs, end: ve})
	rt, err := r.resourceType(vs)
	if err != nil {
		return err
	}
	b := r.body
	cs, _, hasContained, err := fjson.Lookup(b, vs, "contained")
	if err != nil || !hasContained && rt != "Bundle" && rt != "Parameters" {
		return err
	}
	if depth >= maxBundleNesting {
		return errContainedShape
	}
	if hasContained {
		if err := r.addOwnContained(it, cs, depth+1); err != nil {
			return err
		}
	}
	switch rt {
	case "Parameters":
		return r.findParameterResources(it, vs, 0, depth+1)
	case "Bundle":
	default:
		return nil
	}
	arr, _, ok, err := fjson.Lookup(b, vs, "entry")
	if err != nil || !ok {
		return err
	}
	if b[arr] != '[' {
		return errContainedShape
	}
	return fjson.ArrayEach(b, arr, func(es, _ int) error {
		if b[es] != '{' {
			return errContainedShape
		}
		// An entry's response.outcome is typed Resource: a Condition
		// labelled R stored there went to org-b inside the container
		// (QA round 38, area A). It is labelled as the entry's resource is.
		if ps, _, ok, err := fjson.Lookup(b, es, "response"); err != nil {
			return err
		} else if ok {
			if ps, err = partObject(b, ps); err != nil {
				return errContainedShape
			}
			os, oe, ok, err := fjson.Lookup(b, ps, "outcome")
			if err != nil {
				return err
			}
			if ok {
				if b[os] != '{' {
					return errContainedShape
				}
				if err := r.addContained(it, os, oe, depth+1); err != nil {
					return err
				}
			}
		}
		rs, re, ok, err := fjson.Lookup(b, es, "resource")
		if err != nil || !ok {
			return err
		}
		if b[rs] != '{' {
			return errContainedShape
		}
		return r.addContained(it, rs, re, depth+1)
	})
}

// addOwnContained records, as resources contained in it, those of the
// contained member whose value starts at s, of a resource it holds: the
// objects of the array, or the value itself when it is one object
// (recordContained).
func (r *run) addOwnContained(it *item, s, depth int) error {
	b := r.body
	switch b[s] {
	case '{':
		e, err := fjson.SkipValue(b, s)
		if err != nil {
			return err
		}
		return r.addContained(it, s, e, depth)
	case '[':
		return fjson.ArrayEach(b, s, func(vs, ve int) error {
			if b[vs] != '{' {
				return errContainedShape
			}
			return r.addContained(it, vs, ve, depth)
		})
	}
	return nil
}

// settleContained gives each contained resource its labels and patient,
// and the container their sensitivity.
func settleContained(it *item) {
	if len(it.contained) == 0 {
		return
	}
	if it.res.Patient == "" {
		it.res.Patient = onePatient(it.contained)
	}
	// The contained resources' labels only: the container's own are its
	// Labels already, and its element labels (a Patient's cut enrolment)
	// are its elements', redacted as such. Counting them here made any
	// contained resource withhold an enrolled Patient whole, which told
	// enrolled Patients from plain ones (QA round 13).
	rs := make([]labels.Result, 0, len(it.contained))
	for _, c := range it.contained {
		if c.res.Patient == "" {
			c.res.Patient, c.res.SubjectPatient, c.inheritedPatient = it.res.Patient, it.res.SubjectPatient, true
		}
		rs = append(rs, *c.res)
	}
	// HighWaterMark: one confidentiality, sensitivity and policy codes.
	add := labels.HighWaterMark(rs)
	for _, c := range it.contained {
		for _, l := range c.res.Labels {
			if l == labels.NoRedisclosure {
				add = add.Union(labels.NewSet(l))
			}
		}
	}
	if merged := highWater(it.res.Labels.Union(add)); !merged.Equal(it.res.Labels) {
		it.res.Labels, it.res.Changed = merged, true
	}
}

// onePatient is the patient every contained resource that names one
// names, or "" (a Parameters answering for several patients is decided
// with none, which withholds sensitive data).
func onePatient(cs []*item) string {
	p := ""
	for _, c := range cs {
		switch {
		case c.res.Patient == "":
		case p == "":
			p = c.res.Patient
		case p != c.res.Patient:
			return ""
		}
	}
	return p
}

// decideContained decides each contained resource as its own class and
// withholds a container any of whose contained resources is withheld.
func (r *run) decideContained(ctx context.Context) error {
	now := time.Now().UnixNano()
	for _, it := range r.items {
		withhold := false
		for _, c := range it.contained {
			// A contained resource of the patient's own record is theirs
			// as the container is (the right of access, selfAccess).
			self := it.class.self && c.res.Patient == it.class.patient && (c.inheritedPatient || r.selfAccess(c, c.res.Patient))
			cls, err := r.classOf(ctx, c.res.Patient, c.res.Type, c.res.Labels, self, now)
			if err != nil {
				return err
			}
			for _, p := range c.res.Patients { // one that names several is each one's (decide.go)
				if !cls.decision.Permitted() {
					break
				}
				if cls, err = r.classOf(ctx, p, c.res.Type, c.res.Labels, false, now); err != nil {
					return err
				}
			}
			c.class = cls
			withhold = withhold || !cls.decision.Permitted()
		}
		if withhold && it.class.decision.Permitted() {
			it.class = withheldClass(it.class, "contained-withheld", "a contained resource is withheld")
		}
	}
	return nil
}

// containedOf records the contained resources of an item collect has
// walked: the resources of a Parameters, and those of its contained array.
// A Parameters has no contained array in valid FHIR, but a server may
// store one, and addContained reads it in a Parameters held inside a
// record: read only there, a Condition labelled R in an operation's
// Parameters answer's own contained array went to org-b (QA round 37,
// area I).
func (r *run) containedOf(it *item) error {
	if it.typ == "Parameters" {
		if err := r.findParameterResources(it, it.start, 0, 0); err != nil {
			return asFailure(err)
		}
	}
	if it.containedAt >= 0 {
		if err := r.recordContained(it, it.containedAt); err != nil {
			return asFailure(err)
		}
	}
	return nil
}

// findParameterResources records the resources in the parameter (or part)
// array of the object at obj; nest is how deep in Bundles and Parameters
// contained in it obj lies (addContained).
func (r *run) findParameterResources(it *item, obj, depth, nest int) error {
	if depth > maxBundleNesting {
		return errContainedShape
	}
	b := r.body
	arr, _, ok, err := fjson.Lookup(b, obj, partsMember(depth))
	if err != nil || !ok {
		return err
	}
	if b[arr] != '[' {
		return errContainedShape
	}
	return fjson.ArrayEach(b, arr, func(ps, _ int) error {
		if b[ps] != '{' {
			return errContainedShape
		}
		rs, re, ok, err := fjson.Lookup(b, ps, "resource")
		if err != nil {
			return err
		}
		if ok {
			if b[rs] != '{' {
				return errContainedShape
			}
			if err := r.addContained(it, rs, re, nest); err != nil {
				return err
			}
		}
		return r.findParameterResources(it, ps, depth+1, nest)
	})
}

func partsMember(depth int) string {
	if depth == 0 {
		return "parameter"
	}
	return "part"
}

// A contained resource cut as an element of its container (an inline label
// on its top level whose class the caller may not see, or a redact or mask
// decision naming it) leaves behind what points at it: references
// ("reference":"#c1", at any depth, in the container and in the other
// contained resources) and canonicals ("answerValueSet":"#vs1"). Left in
// place they dangle, and a Reference's display can still name what was cut.
// So every object whose reference member is "#id" of a cut resource goes
// whole (the Reference, with its display; an array or object left empty
// goes too), and so does any other string that is exactly "#id"; each is
// cut as an element is, under the REDACTED the cut already brings, so the
// client learns nothing more than REDACTED says. A contained resource that
// something referred to (or that referred to its container, "#") and that
// no longer is referred to, nor refers to its container, once those are
// cut goes too (FHIR's dom-3: a contained resource is referred to from
// elsewhere in the resource or refers to it), and so on until nothing
// changes. A masked contained resource is cut instead: masking would turn
// its resourceType and id into "masked".

// localRef is a string "#id" in a resource: val its value, ref the whole
// Reference object when it is the object's reference member (else val);
// id is "" for "#", the container.
type localRef struct {
	id       string
	val, ref span
}

// cutContainedReferences completes the cut of the contained resources of it
// that lie inside a removed or masked element, as above, and cuts those
// left unreferenced by any cut (an inline-labelled focus "#c1" cut leaves
// c1, which the label was about). It runs at the end of decideElements.
func (r *run) cutContainedReferences(it *item) error {
	if len(it.contained) == 0 || len(it.redacted)+len(it.masked) == 0 {
		return nil
	}
	rel := func(c *item) (int, int) { return c.start - it.start, c.end - it.start }
	// a masked element holding a contained resource is cut instead
	var masked []labels.ElementLabel
	for _, m := range it.masked {
		holds := false
		for _, c := range it.contained {
			s, e := rel(c)
			holds = holds || s >= m.Start && e <= m.End
		}
		if holds {
			it.redacted = append(it.redacted, m)
		} else {
			masked = append(masked, m)
		}
	}
	it.masked = masked
	cut := map[string]bool{}
	var live []*item // contained resources not cut, with an id
	ids := map[*item]string{}
	for _, c := range it.contained {
		id, err := r.containedID(c)
		if err != nil {
			return err
		}
		s, e := rel(c)
		switch {
		case insideAny(s, e, it.redacted):
			if id != "" {
				cut[id] = true
			}
		case id != "":
			live = append(live, c)
			ids[c] = id
		}
	}
	if len(live) == 0 && len(cut) == 0 || it.silentCut() {
		// a Patient's enrolment is cut silently (enrolment.go): cutting
		// more would bring REDACTED
		return nil
	}
	var refs []localRef
	if err := localRefs(r.body, it.start, it.end, 0, &refs); err != nil {
		return rewriteFailure(err)
	}
	removed := func(sp span) bool { return insideAny(sp.start-it.start, sp.end-it.start, it.redacted) }
	referred := func(c *item, ignoreRemoved bool) bool {
		for _, ref := range refs {
			if ignoreRemoved && removed(ref.val) {
				continue
			}
			inside := ref.val.start >= c.start && ref.val.end <= c.end
			if ref.id == ids[c] && !inside || ref.id == "" && inside {
				return true
			}
		}
		return false
	}
	wasReferred := map[*item]bool{}
	for _, c := range live {
		wasReferred[c] = referred(c, false)
	}
	cutSpan := func(sp span) {
		it.redacted = append(it.redacted, labels.ElementLabel{Start: sp.start - it.start, End: sp.end - it.start})
	}
	for changed := true; changed; {
		changed = false
		for _, ref := range refs {
			if cut[ref.id] && !removed(ref.ref) {
				cutSpan(ref.ref)
				changed = true
			}
		}
		for _, c := range live {
			if cut[ids[c]] || !wasReferred[c] || referred(c, true) {
				continue
			}
			cut[ids[c]] = true
			cutSpan(span{c.start, c.end})
			changed = true
		}
	}
	// the inline labels of what went with them are not written
	kept := it.res.Elements[:0:0]
	for _, e := range it.res.Elements {
		if !insideAny(e.Start, e.End, it.redacted) {
			kept = append(kept, e)
		}
	}
	it.res.Elements = kept
	return nil
}

// containedID is the id of the contained resource c, "" when it has none.
func (r *run) containedID(c *item) (string, error) {
	s, e, ok, err := fjson.Lookup(r.body, c.start, "id")
	if err != nil {
		return "", rewriteFailure(err)
	}
	if !ok {
		return "", nil
	}
	id, _ := fjson.StringValue(r.body, s, e)
	return id, nil
}

// localRefs appends each string "#..." below the value b[vs:ve].
func localRefs(b []byte, vs, ve, depth int, out *[]localRef) error {
	if depth > maxTwinDepth {
		return errPruneScalar // deeper than any FHIR resource: withheld
	}
	vs, ve = trim(b, vs, ve)
	switch b[vs] {
	case '{':
		// an Extension whose value is the reference or canonical goes
		// whole: one left with its url alone has no value (ext-1)
		ext := false
		if err := fjson.ObjectEach(b, vs, func(key []byte, _, _ int) error {
			ext = ext || fjson.KeyIs(key, "url")
			return nil
		}); err != nil {
			return err
		}
		return fjson.ObjectEach(b, vs, func(key []byte, s, e int) error {
			value := ext && strings.HasPrefix(keyName(key), "value")
			if id, ok := localID(b, s, e); ok {
				ref := localRef{id: id, val: span{s, e}, ref: span{s, e}}
				if value || fjson.KeyIs(key, "reference") {
					ref.ref = span{vs, ve}
				}
				*out = append(*out, ref)
				return nil
			}
			n := len(*out)
			if err := localRefs(b, s, e, depth+1, out); err != nil {
				return err
			}
			for i := n; value && i < len(*out); i++ {
				if ts, te := trim(b, s, e); (*out)[i].ref == (span{ts, te}) {
					(*out)[i].ref = span{vs, ve}
				}
			}
			return nil
		})
	case '[':
		return fjson.ArrayEach(b, vs, func(s, e int) error {
			if id, ok := localID(b, s, e); ok {
				*out = append(*out, localRef{id: id, val: span{s, e}, ref: span{s, e}})
				return nil
			}
			return localRefs(b, s, e, depth+1, out)
		})
	}
	return nil
}

// localID is the id a string "#id" names ("" for "#").
func localID(b []byte, s, e int) (string, bool) {
	if b[s] != '"' {
		return "", false
	}
	v, ok := fjson.StringValue(b, s, e)
	if !ok || len(v) == 0 || v[0] != '#' {
		return "", false
	}
	return v[1:], true
}

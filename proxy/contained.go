package proxy

import (
	"bytes"
	"context"
	"errors"
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
				if err := r.findParameterResources(it, it.start, 0); err != nil {
					return asFailure(err)
				}
				continue
			}
		}
		if !escaped && !bytes.Contains(seg, containedKey) {
			continue
		}
		s, _, ok, err := fjson.Lookup(r.body, it.start, "contained")
		if err != nil {
			return asFailure(err)
		}
		if !ok || r.body[s] != '[' {
			continue
		}
		err = fjson.ArrayEach(r.body, s, func(vs, ve int) error {
			if r.body[vs] != '{' {
				return errContainedShape
			}
			it.contained = append(it.contained, &item{start: vs, end: ve})
			return nil
		})
		if err != nil {
			return asFailure(err)
		}
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
// walked: the resources of a Parameters, or those of its contained array.
func (r *run) containedOf(it *item) error {
	switch {
	case it.typ == "Parameters":
		if err := r.findParameterResources(it, it.start, 0); err != nil {
			return asFailure(err)
		}
	case it.containedAt >= 0:
		if r.body[it.containedAt] != '[' {
			return nil
		}
		err := fjson.ArrayEach(r.body, it.containedAt, func(vs, ve int) error {
			if r.body[vs] != '{' {
				return errContainedShape
			}
			it.contained = append(it.contained, &item{start: vs, end: ve})
			return nil
		})
		if err != nil {
			return asFailure(err)
		}
	}
	return nil
}

// findParameterResources records the resources in the parameter (or part)
// array of the object at obj.
func (r *run) findParameterResources(it *item, obj, depth int) error {
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
			it.contained = append(it.contained, &item{start: rs, end: re})
		}
		return r.findParameterResources(it, ps, depth+1)
	})
}

func partsMember(depth int) string {
	if depth == 0 {
		return "parameter"
	}
	return "part"
}

package proxy

import (
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// Element masking. A decision with effect mask (policy.Mask) discloses the
// item with each element labelled by any label in Decision.Mask masked,
// whether the item's own class or an element's class says so: the element
// stays where it was, so the resource keeps its structure (a Condition
// keeps its code, an Identifier its system), but every string in it reads
// "masked" except the members system and url, which name vocabularies and
// extension kinds (url only in an Extension), never the patient's data; numbers, booleans and nested
// extensions (which could carry data, or an inline label telling the
// sensitivity) are removed. The resource gets the integrity label MASKED,
// and its narrative is dropped as for a redaction (it could tell the
// value). A masked element's labels are written nowhere, as for a removed
// one. When a label to mask is on the resource itself no element can be
// masked to honour it and the item is withheld.

// MaskedLabel is the integrity label of a resource some of whose values the
// proxy masked (DS4P: v3-ObservationValue MASKED).
var MaskedLabel = labels.Label{System: labels.SystemObservationValue, Code: "MASKED"}

// maskedText replaces each masked string.
const maskedText = `"masked"`

// maskedUnder reports whether an element labelled elem is masked under d:
// the labels to mask are the element's and not the resource's.
func maskedUnder(d policy.Decision, res, elem labels.Set) bool {
	if d.Effect != policy.Mask {
		return false
	}
	ls := parseLabels(d.Mask)
	return len(ls) > 0 && !intersects(res, ls) && intersects(elem, ls)
}

// applyMaskDecision turns an item whose own decision is mask into a
// disclosed item with the elements to mask noted in it.masked; it stays
// withheld when there is nothing to mask or a label to mask is its own.
func (it *item) applyMaskDecision() {
	d := it.class.decision
	var kept []labels.ElementLabel
	for _, e := range it.res.Elements {
		if maskedUnder(d, it.res.Labels, e.Labels) {
			it.masked = append(it.masked, e)
		} else {
			kept = append(kept, e)
		}
	}
	if len(it.masked) == 0 {
		return // nothing to mask, or the resource's own label: withheld
	}
	it.res.Elements = kept
	c := *it.class
	c.decision.Effect = policy.Permit
	it.class = &c
}

// maskEdits returns the edits that mask the values of the masked elements
// of it, outside any removed span (a masked element inside a removed one
// goes with it).
func (r *run) maskEdits(it *item, removed []span) ([]fjson.Edit, []span, error) {
	var edits []fjson.Edit
	var drop []span
	spans := make([]span, 0, len(it.masked))
	for _, e := range it.masked {
		spans = append(spans, span{it.start + e.Start, it.start + e.End})
	}
	// the value of a masked "_x" (a primitive's extensions) is masked too
	twins, err := primitiveTwins(r.body, it.start, it.end, spans)
	if err != nil {
		return nil, nil, rewriteFailure(err)
	}
	spans = append(spans, twins...)
	for i, sp := range spans {
		s, end := sp.start, sp.end
		if withinSpans(s, end, removed) || insideOther(spans, i) {
			continue
		}
		s, end = trim(r.body, s, end)
		ed, gone, err := maskValue(r.body, s, end)
		if err != nil {
			return nil, nil, rewriteFailure(err)
		}
		if gone {
			drop = append(drop, span{s, end}) // a number or boolean: removed
			continue
		}
		for _, x := range ed { // a redacted element inside it is removed instead
			if !withinSpans(x.Start, x.End, removed) {
				edits = append(edits, x)
			}
		}
	}
	return edits, drop, nil
}

// insideOther reports whether ss[i] lies inside another span of ss (the
// same span twice counts once: the first is kept).
func insideOther(ss []span, i int) bool {
	for j, o := range ss {
		if j != i && ss[i].start >= o.start && ss[i].end <= o.end && (ss[i] != o || j < i) {
			return true
		}
	}
	return false
}

func withinSpans(start, end int, ss []span) bool {
	for _, o := range ss {
		if start >= o.start && end <= o.end {
			return true
		}
	}
	return false
}

// maskValue masks the JSON value b[vs:ve]: a string becomes "masked", an
// object or array is masked member by member; gone reports a number,
// boolean or null, which the caller removes.
func maskValue(b []byte, vs, ve int) (edits []fjson.Edit, gone bool, err error) {
	switch b[vs] {
	case '"':
		return []fjson.Edit{{Start: vs, End: ve, Data: []byte(maskedText)}}, false, nil
	case '{':
		return maskObject(b, vs)
	case '[':
		var slots []member
		var goneIdx []int
		err = fjson.ArrayEach(b, vs, func(s, e int) error {
			ed, g, err := maskValue(b, s, e)
			if g {
				goneIdx = append(goneIdx, len(slots))
			}
			edits = append(edits, ed...)
			slots = append(slots, member{start: s, vStart: s, end: e})
			return err
		})
		if err != nil || len(goneIdx) == len(slots) {
			return nil, err == nil, err
		}
		return append(edits, removeMembers(slots, goneIdx)...), false, nil
	}
	return nil, true, nil
}

// maskObject masks each member of the object at vs but system and url, and
// removes extensions and members with nothing left to show.
func maskObject(b []byte, vs int) (edits []fjson.Edit, gone bool, err error) {
	var slots []member
	var goneIdx []int
	kept := 0
	// url names the kind of an Extension (an object with a value[x]); in any
	// other object (Attachment.url, say) it is data and is masked.
	isExt := false
	if err := fjson.ObjectEach(b, vs, func(key []byte, _, _ int) error {
		isExt = isExt || strings.HasPrefix(keyName(key), "value")
		return nil
	}); err != nil {
		return nil, false, err
	}
	err = fjson.ObjectEach(b, vs, func(key []byte, s, e int) error {
		name := keyName(key)
		ms := memberStart(b, key, s)
		switch {
		case name == "system" || name == "url" && isExt:
			kept++
		case name == "extension" || name == "modifierExtension":
			goneIdx = append(goneIdx, len(slots))
		default:
			ed, g, err := maskValue(b, s, e)
			if err != nil {
				return err
			}
			if g {
				goneIdx = append(goneIdx, len(slots))
			} else {
				edits = append(edits, ed...)
				kept++
			}
		}
		slots = append(slots, member{start: ms, vStart: s, end: e})
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if kept == 0 {
		return nil, true, nil
	}
	return append(edits, removeMembers(slots, goneIdx)...), false, nil
}

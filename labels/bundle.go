package labels

import (
	"errors"

	"github.com/ds4p/ds4p/internal/fjson"
)

// BundleRule is the Reason.Rule of a label an entry's resource takes from
// the stored Bundle it is in (Result.InBundle).
const BundleRule = "Bundle.meta.security"

// BundleLabels returns the labels a stored Bundle (a document, a
// collection, a message: a resource the server holds, not a search's or a
// history's answer) carries of its own, which are labels of each of its
// entries (Result.InBundle): those of its meta.security, read as the
// existing labels of any resource are (legacy and OID systems normalised,
// an unknown confidentiality code as R; an entry that is no Coding, or
// whose system or code is no string, is an error), and the confidentiality
// and v3-ActCode codes of its meta.tag, as a resource's are; of them, the
// confidentiality, sensitivity, policy and refrain codes (those a
// reference passes on). meta is where the value of the Bundle's meta
// member starts in b, which holds valid JSON. An EHR that labels a
// document or a collection as a whole, SUD or R, labels what it holds:
// read as no label of its entries, a collection labelled SUD whose
// Condition bore no code a rule matches went to org-b whole (QA round 36,
// area A).
func BundleLabels(b []byte, meta int) (Set, error) {
	if meta < 0 || meta >= len(b) || b[meta] != '{' {
		return nil, errors.New(`labels: a Bundle's "meta" is not an object`)
	}
	var ls []Label
	_, err := fjson.ObjectScanValid(b, meta, func(key []byte, v int) (int, error) {
		end, err := fjson.SkipValid(b, v)
		if err != nil {
			return 0, err
		}
		switch metaIndex(key) {
		case 2: // security
			if b[v] != '[' {
				return 0, errors.New(`labels: a Bundle's "meta.security" is not an array`)
			}
			_, err = fjson.ArrayScan(b, v, func(e int) (int, error) {
				end, lb, ok, _, err := readLabel(b, e, true)
				if err != nil {
					return 0, err
				}
				if !ok && !codingShaped(b, e) {
					return 0, errors.New(`labels: a Bundle's "meta.security" holds an entry that is no Coding`)
				}
				if ok {
					ls = append(ls, lb)
				}
				return end, nil
			})
		case 3: // tag: an entry that is no Coding fails, as a resource's
			err = readTagLabels(b, v, func(lb Label, _ int) { ls = append(ls, lb) })
		}
		return end, err
	})
	if err != nil {
		return nil, err
	}
	return inheritable(toSet(ls)), nil
}

// InBundle adds to r, the result of the resource res (its bytes, as
// labelled), the labels of the stored Bundle it is an entry of
// (BundleLabels; a Bundle nested in another adds its container's): before
// Batch.Finish, so that they pass along references and stand in the
// high-water mark of the disclosed entries as the Bundle's own labels
// (Reason.Rule BundleRule). Only the labels a reference passes on count.
// r is not the server's resource of its Type/id (CopyIn): the label cache
// notes nothing of it.
func (r *Result) InBundle(res []byte, s Set) {
	add := inheritable(s)
	if len(add) == 0 {
		return
	}
	merged := r.derived.Union(add)
	if merged.Equal(r.derived) {
		return
	}
	before := r.Effective()
	r.derived = merged
	r.settle(res)
	after := r.Effective()
	var basis string
	if add.Has(Part2Policy) {
		basis = Part2Policy.Code
	}
	for _, lb := range add {
		if !before.Has(lb) && after.Has(lb) {
			r.Reasons = append(r.Reasons, Reason{Label: lb, Rule: BundleRule, Matched: lb.String(), Path: BundleRule, Basis: basis})
		}
	}
}

package labels

import (
	"fmt"
	"slices"

	"github.com/ds4p/ds4p/internal/fjson"
)

// HighWaterMark returns the labels for the meta.security of a Bundle whose
// entries' resources have the Results rs: the highest confidentiality of
// any entry (resource or element level, see Result.Effective) and the union
// of their v3-ActCode sensitivity and policy codes (SUD, HIV ...,
// 42CFRPart2). It leaves out obligation codes (PROCESSINLINELABEL, REDACT
// ...) and refrain codes (NORDSCLCD ...), which the DS4P IG says SHALL NOT
// appear in a high-water mark, and every other system (integrity, purpose
// of use). Policy codes stay: they say which law governs handling of the
// whole Bundle and reveal no more than the sensitivity codes beside them.
// Callers pass only the entries that are disclosed: a withheld entry must
// not leave its mark.
func HighWaterMark(rs []Result) Set {
	var m Mark
	for k := range rs {
		m.Add(rs[k].Effective())
	}
	return m.Set()
}

// Mark gathers a high-water mark (see HighWaterMark) one set at a time,
// without keeping the Results: Add the Effective labels of each disclosed
// resource (and any labels its decision adds), then take Set. The zero Mark
// is empty.
type Mark struct{ ls []Label }

// Add adds the labels of ls that belong in a high-water mark.
func (m *Mark) Add(ls Set) {
	for _, lb := range ls {
		if inMark(lb) && !slices.Contains(m.ls, lb) {
			m.ls = append(m.ls, lb)
		}
	}
}

// Set returns the high-water mark of what was added.
func (m *Mark) Set() Set {
	return toSet(slices.Clone(m.ls)).highWater()
}

// inMark reports whether l belongs in a high-water mark.
func inMark(l Label) bool {
	switch l.System {
	case SystemConfidentiality:
		return ConfidentialityRank(l.Code) >= 0
	case SystemActCode:
		return !obligationCodes[l.Code] && !refrainCodes[l.Code]
	}
	return false
}

// MarkEdits returns the edits, relative to bundle (a Bundle object), that
// make its meta.security carry mark: the Bundle's labels summarise what it
// holds now, so existing confidentiality and v3-ActCode entries not in
// mark are removed (they may describe entries that were withheld, or be
// privacy-revealing obligations and refrains), entries in mark and entries
// of other systems keep their bytes, and the labels of mark that are
// missing are appended. A Bundle without meta gets one after its id or
// resourceType; the edit replaces that member's value with itself followed
// by the new meta, so that it never starts where an edit of a neighbouring
// member does.
func MarkEdits(bundle []byte, mark Set) ([]fjson.Edit, error) {
	top, err := locateTop(bundle)
	if err != nil {
		return nil, err
	}
	if !top.meta.found {
		if len(mark) == 0 {
			return nil, nil
		}
		return markInsertMeta(bundle, top, mark), nil
	}
	meta, err := locateMeta(bundle, top.meta.start)
	if err != nil {
		return nil, err
	}
	return markMeta(bundle, meta, mark)
}

// markMeta is MarkEdits for the Bundle's meta, laid out as lay: its
// security array made to carry mark, and the security labels an upstream
// put in its tag array removed (meta.tag is read as labels, QA round 25:
// a confidentiality or v3-ActCode code there would otherwise still tell of
// a withheld entry).
func markMeta(b []byte, lay objectLayout, mark Set) ([]fjson.Edit, error) {
	var edits []fjson.Edit
	switch {
	case lay.security.found:
		entries, err := readEntries(b, lay.security.start)
		if err != nil {
			return nil, err
		}
		edits = markMerge(entries, lay.security.start, mark)
	case len(mark) > 0:
		edits = insertSecurity(lay, mark, nil)
	}
	if lay.tag.found && b[lay.tag.start] == '[' {
		var tags []entry
		_, err := fjson.ArrayScan(b, lay.tag.start, func(e int) (int, error) {
			end, err := fjson.SkipValue(b, e)
			if err != nil || b[e] != '{' {
				tags = append(tags, entry{start: e, end: end})
				return end, err
			}
			_, lb, ok, _, _ := readLabel(b, e, true)
			tags = append(tags, entry{start: e, end: end, label: lb, ok: ok})
			return end, nil
		})
		if err != nil {
			return nil, fmt.Errorf("labels: reading meta.tag: %w", err)
		}
		remove := make([]bool, len(tags))
		for k, t := range tags {
			remove[k] = t.ok && (isConfidentiality(t.label) || (t.label.System == SystemActCode && KnownCode(SystemActCode, t.label.Code)))
		}
		if rm := removals(tags, remove); len(rm) > 0 {
			edits = append(edits, rm...)
			slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
		}
	}
	if lay.tag.found && b[lay.tag.start] == '{' {
		// One tag written as an object rather than an array of one
		// (invalid FHIR JSON, but a server may send it, and the labeller
		// reads it as the array's one element): a security label so
		// written goes as from an array, leaving an empty one. Kept, a
		// searchset's "SUD" still told of the entry withheld (QA round
		// 34, area A).
		_, lb, ok, _, err := readLabel(b, lay.tag.start, true)
		if err == nil && ok && (isConfidentiality(lb) || (lb.System == SystemActCode && KnownCode(SystemActCode, lb.Code))) {
			edits = append(edits, fjson.Edit{Start: lay.tag.start, End: lay.tag.end, Data: []byte("[]")})
			slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
		}
	}
	return edits, nil
}

// markMerge removes the summary entries not in mark and appends the
// labels of mark not present.
func markMerge(entries []entry, open int, mark Set) []fjson.Edit {
	remove := make([]bool, len(entries))
	var have []Label
	for k, e := range entries {
		switch {
		case !e.ok:
		case (isConfidentiality(e.label) || e.label.System == SystemActCode) && !mark.Has(e.label):
			remove[k] = true
		default:
			have = append(have, e.label)
		}
	}
	present := toSet(have)
	var add Set
	for _, lb := range mark {
		if !present.Has(lb) {
			add = append(add, lb)
		}
	}
	edits := removals(entries, remove)
	edits = append(edits, appendMissing(entries, remove, open, add, nil)...)
	slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
	return edits
}

// markInsertMeta adds "meta":{"security":[...]} after the anchor member
// (id or resourceType) by rewriting the anchor's value as itself plus the
// new member.
func markInsertMeta(bundle []byte, top objectLayout, mark Set) []fjson.Edit {
	if top.after == 0 {
		return insertMeta(top, mark, nil)
	}
	data := make([]byte, 0, top.after-top.afterStart+len(`,"meta":{"security":}`)+labelsSize(mark, nil))
	data = append(data, bundle[top.afterStart:top.after]...)
	data = append(data, `,"meta":{"security":`...)
	data = append(appendLabels(data, mark, nil), '}')
	return []fjson.Edit{{Start: top.afterStart, End: top.after, Data: data}}
}

// MarkEditsAt is MarkEdits for a caller that has already walked the
// Bundle's top-level members (a proxy that has just collected its
// entries), so that the Bundle is not scanned again: b holds the Bundle,
// meta is where the value of its meta member starts (-1 without one), and
// anchor is the value span of its id or resourceType, whichever comes last
// (a new meta goes after it). Offsets are those of b.
func MarkEditsAt(b []byte, meta, anchorStart, anchorEnd int, mark Set) ([]fjson.Edit, error) {
	if meta < 0 {
		if len(mark) == 0 {
			return nil, nil
		}
		return markInsertMeta(b, objectLayout{afterStart: anchorStart, after: anchorEnd}, mark), nil
	}
	lay, err := locateMeta(b, meta)
	if err != nil {
		return nil, err
	}
	return markMeta(b, lay, mark)
}

// Sensitive reports whether s says the data is sensitive: whether the
// high-water mark of s alone (HighWaterMark of one Result with labels s)
// holds a v3-ActCode sensitivity or policy code or the confidentiality R
// or V. It builds no mark: R and V are the two most restrictive codes, so
// the mark keeps one of them exactly when s holds one.
func (s Set) Sensitive() bool {
	for _, l := range s {
		switch {
		case l.System == SystemActCode && inMark(l):
			return true
		case l.System == SystemConfidentiality && (l.Code == "R" || l.Code == "V"):
			return true
		}
	}
	return false
}

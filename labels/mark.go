package labels

import (
	"bytes"
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
// member does. A security or tag array whose every entry goes, nothing
// added, goes itself with its comma, and meta too when no member of it is
// left: "security":[] or "meta":{} would tell that the Bundle carried a
// label that was removed, where the Bundle without the withheld entries
// has no such member (QA round 38, area G; an empty array is no valid
// FHIR JSON either).
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
	edits, drop, err := markMeta(bundle, meta, mark)
	if drop {
		return []fjson.Edit{memberRemoval(bundle, top.meta.start, top.meta.end)}, nil
	}
	return edits, err
}

// markMeta is MarkEdits for the Bundle's meta, laid out as lay: its
// security array made to carry mark, and the security labels an upstream
// put in its tag array removed (meta.tag is read as labels, QA round 25:
// a confidentiality or v3-ActCode code there would otherwise still tell of
// a withheld entry). The security or tag member whose every entry goes
// goes with its comma; when none of meta's members is left, markMeta
// returns no edits and drop: the caller removes meta.
func markMeta(b []byte, lay objectLayout, mark Set) (edits []fjson.Edit, drop bool, err error) {
	var secGone, tagGone bool
	insert := !lay.security.found && len(mark) > 0
	switch {
	case lay.security.found:
		entries, err := readEntries(b, lay.security.start)
		if err != nil {
			return nil, false, err
		}
		edits, secGone = markMerge(entries, lay.security.start, mark)
	case insert:
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
			return nil, false, fmt.Errorf("labels: reading meta.tag: %w", err)
		}
		remove := make([]bool, len(tags))
		for k, t := range tags {
			remove[k] = t.ok && (isConfidentiality(t.label) || (t.label.System == SystemActCode && KnownCode(SystemActCode, t.label.Code)))
		}
		tagGone = len(tags) > 0 && !slices.Contains(remove, false)
		if rm := removals(tags, remove); len(rm) > 0 && !tagGone {
			edits = append(edits, rm...)
			slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
		}
	}
	if lay.tag.found && b[lay.tag.start] == '{' {
		// One tag written as an object rather than an array of one
		// (invalid FHIR JSON, but a server may send it, and the labeller
		// reads it as the array's one element): a security label so
		// written goes as from an array, and the member with it. Kept, a
		// searchset's "SUD" still told of the entry withheld (QA round
		// 34, area A).
		_, lb, ok, _, err := readLabel(b, lay.tag.start, true)
		tagGone = err == nil && ok && (isConfidentiality(lb) || (lb.System == SystemActCode && KnownCode(SystemActCode, lb.Code)))
	}
	var goneAt [2]member // kept off the heap
	gone := goneAt[:0]
	if secGone {
		gone = append(gone, lay.security)
	}
	if tagGone {
		gone = append(gone, lay.tag)
	}
	switch {
	case len(gone) == 0:
		return edits, false, nil
	case len(gone) < lay.members:
		slices.SortFunc(gone, func(a, b member) int { return a.start - b.start })
		edits = memberRemovals(edits, b, gone)
		slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
		return edits, false, nil
	case insert:
		// The tag was meta's one member: the new security takes its
		// place.
		key, _, _ := memberAt(b, lay.tag.start, lay.tag.end)
		data := appendLabels(append(make([]byte, 0, len(`"security":`)+labelsSize(mark, nil)), `"security":`...), mark, nil)
		return []fjson.Edit{{Start: key, End: lay.tag.end, Data: data}}, false, nil
	}
	return nil, true, nil
}

// markMerge removes the summary entries not in mark and appends the
// labels of mark not present. When every entry goes and none is added it
// returns no edits and gone: the caller removes the array.
func markMerge(entries []entry, open int, mark Set) (edits []fjson.Edit, gone bool) {
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
	if len(entries) > 0 && len(add) == 0 && !slices.Contains(remove, false) {
		return nil, true
	}
	edits = removals(entries, remove)
	edits = append(edits, appendMissing(entries, remove, open, add, nil)...)
	slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
	return edits, false
}

// memberAt returns where the object member whose value spans [vs, ve) of
// b starts (its key's opening quote: the keys MarkEdits removes, "meta",
// "security" and "tag", hold no quote however escaped), where the member
// before it ends (-1 when it is the first) and where the one after it
// starts (-1 when it is the last).
func memberAt(b []byte, vs, ve int) (key, prev, next int) {
	i := vs - 1
	for jsonSpace(b[i]) || b[i] == ':' {
		i--
	}
	key = bytes.LastIndexByte(b[:i], '"')
	for i = key - 1; jsonSpace(b[i]); i-- {
	}
	prev = -1
	if b[i] == ',' {
		for i--; jsonSpace(b[i]); i-- {
		}
		prev = i + 1
	}
	next = -1
	if j := fjson.SkipSpace(b, ve); j < len(b) && b[j] == ',' {
		next = fjson.SkipSpace(b, j+1)
	}
	return key, prev, next
}

// jsonSpace reports whether c is JSON white space.
func jsonSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// memberRemoval returns the edit that removes the member whose value spans
// [vs, ve) with the comma that separates it from the next member, or from
// the one before when it is the last.
func memberRemoval(b []byte, vs, ve int) fjson.Edit {
	return memberRemovals(nil, b, []member{{start: vs, end: ve}})[0]
}

// memberRemovals appends to edits those that remove the members ms (in
// order, one of the object's members at least kept unless ms is one
// member) with the commas that separate them from those kept; members side
// by side go as one run, so that no two edits claim the comma between
// them.
func memberRemovals(edits []fjson.Edit, b []byte, ms []member) []fjson.Edit {
	for i := 0; i < len(ms); {
		key, prev, next := memberAt(b, ms[i].start, ms[i].end)
		end := ms[i].end
		for i++; i < len(ms); i++ {
			k, _, n := memberAt(b, ms[i].start, ms[i].end)
			if k != next {
				break
			}
			end, next = ms[i].end, n
		}
		switch {
		case next >= 0:
			edits = append(edits, fjson.Edit{Start: key, End: next})
		case prev >= 0:
			edits = append(edits, fjson.Edit{Start: prev, End: end})
		default:
			edits = append(edits, fjson.Edit{Start: key, End: end})
		}
	}
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
	edits, drop, err := MarkMetaEdits(b, meta, anchorStart, anchorEnd, mark)
	if err != nil || !drop {
		return edits, err
	}
	end, err := fjson.SkipValue(b, meta)
	if err != nil {
		return nil, err
	}
	return []fjson.Edit{memberRemoval(b, meta, end)}, nil
}

// MarkMetaEdits is MarkEditsAt for a caller that removes members of the
// Bundle itself (the proxy its entry, total or signature): when the mark
// leaves none of the members of the Bundle's meta (labels it removes, and
// nothing else), it returns no edits and drop, and the caller removes the
// meta member with its others, so that no two edits claim the comma
// between them. A meta the server sent empty stays.
func MarkMetaEdits(b []byte, meta, anchorStart, anchorEnd int, mark Set) (edits []fjson.Edit, drop bool, err error) {
	if meta < 0 {
		if len(mark) == 0 {
			return nil, false, nil
		}
		return markInsertMeta(b, objectLayout{afterStart: anchorStart, after: anchorEnd}, mark), false, nil
	}
	lay, err := locateMeta(b, meta)
	if err != nil {
		return nil, false, err
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

package labels

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ds4p/ds4p/internal/fjson"
)

// Edits returns the edits, relative to resource, that write r.Labels into
// meta.security. It creates meta or meta.security when absent and keeps
// every other byte as it is: existing entries keep their bytes (legacy
// system URLs included), except that a confidentiality entry lower than the
// highest one, in r.Labels or already present, is replaced by it (or
// removed, when the highest is already there). Labels of r.Labels that are
// missing are appended; an existing entry is never removed for being absent
// from r.Labels, and confidentiality is never lowered. The labels of each
// element of r.Elements that it lacks are appended to the element as DS4P
// inline label extensions; existing extensions keep their bytes. Edits
// returns no edits when r.Changed is false.
func (l *Labeller) Edits(resource []byte, r Result) ([]fjson.Edit, error) {
	if !r.Changed {
		return nil, nil
	}
	edits, err := metaEdits(resource, r)
	if err != nil {
		return nil, err
	}
	for _, e := range r.Elements {
		ee, err := inlineEdits(resource, e)
		if err != nil {
			return nil, err
		}
		edits = append(edits, ee...)
	}
	slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
	return edits, nil
}

// metaEdits returns the edits that write r.Labels into meta.security.
func metaEdits(resource []byte, r Result) ([]fjson.Edit, error) {
	if len(r.Labels) == 0 || (r.Labels.Equal(r.Existing) && !r.Respelt) {
		return nil, nil
	}
	basis := basisOf(r)
	top, err := locateTop(resource)
	if err != nil {
		return nil, err
	}
	if !top.meta.found {
		return insertMeta(top, r.Labels, basis), nil
	}
	meta, err := locateMeta(resource, top.meta.start)
	if err != nil {
		return nil, err
	}
	if !meta.security.found {
		return insertSecurity(meta, r.Labels, basis), nil
	}
	entries, err := readEntries(resource, meta.security.start)
	if err != nil {
		return nil, err
	}
	return mergeEntries(entries, meta.security.start, r.Labels, basis), nil
}

// member is where one object member's value lies.
type member struct {
	start, end int
	found      bool
}

// objectLayout is what Edits needs to know about an object: its opening
// brace, the end of its last member and the members it looks for.
type objectLayout struct {
	open, lastEnd int
	empty         bool
	members       int    // meta: how many (MarkEdits)
	meta          member // resource: "meta"; meta: "security"
	security      member
	tag           member // meta: "tag" (MarkEdits)
	after         int    // resource: where to insert meta (after id or resourceType)
	afterStart    int    // where the value ending at after starts
}

// locateTop finds meta, and the place for a new one, in the resource.
func locateTop(b []byte) (objectLayout, error) {
	lay := objectLayout{open: fjson.SkipSpace(b, 0), empty: true}
	var id, typ member
	err := fjson.ObjectEach(b, lay.open, func(key []byte, s, e int) error {
		lay.empty, lay.lastEnd = false, e
		switch {
		case fjson.KeyIs(key, "meta"):
			return lay.meta.set(s, e, "meta")
		case fjson.KeyIs(key, "id"):
			id = member{start: s, end: e}
		case fjson.KeyIs(key, "resourceType"):
			typ = member{start: s, end: e}
		}
		return nil
	})
	if err != nil {
		return objectLayout{}, fmt.Errorf("labels: locating meta: %w", err)
	}
	anchor := typ
	if id.end > typ.end {
		anchor = id
	}
	lay.after, lay.afterStart = anchor.end, anchor.start
	return lay, nil
}

// locateMeta finds security, and the place for a new one, in meta.
func locateMeta(b []byte, start int) (objectLayout, error) {
	if b[start] != '{' {
		return objectLayout{}, errors.New(`labels: "meta" is not an object`)
	}
	lay := objectLayout{open: start, empty: true}
	err := fjson.ObjectEach(b, start, func(key []byte, s, e int) error {
		lay.empty, lay.lastEnd = false, e
		lay.members++
		switch {
		case fjson.KeyIs(key, "security"):
			return lay.security.set(s, e, "security")
		case fjson.KeyIs(key, "tag"):
			return lay.tag.set(s, e, "tag")
		}
		return nil
	})
	if err != nil {
		return objectLayout{}, fmt.Errorf("labels: locating meta.security: %w", err)
	}
	return lay, nil
}

// set records a member's value bounds and reports a duplicate.
func (m *member) set(s, e int, key string) error {
	if m.found {
		return fmt.Errorf("labels: duplicate %q member", key)
	}
	*m = member{start: s, end: e, found: true}
	return nil
}

// insertMeta adds "meta":{"security":[...]} to a resource without meta,
// after id (or resourceType) when present, else first.
func insertMeta(top objectLayout, ls Set, basis map[Label]string) []fjson.Edit {
	data := make([]byte, 0, len(`,"meta":{"security":},`)+labelsSize(ls, basis))
	if top.after > 0 {
		data = append(data, ',')
	}
	data = append(data, `"meta":{"security":`...)
	data = append(appendLabels(data, ls, basis), '}')
	if top.after > 0 {
		return []fjson.Edit{{Start: top.after, End: top.after, Data: data}}
	}
	if !top.empty {
		data = append(data, ',')
	}
	return []fjson.Edit{{Start: top.open + 1, End: top.open + 1, Data: data}}
}

// insertSecurity adds "security":[...] as the last member of meta.
func insertSecurity(meta objectLayout, ls Set, basis map[Label]string) []fjson.Edit {
	data := make([]byte, 0, len(`,"security":`)+labelsSize(ls, basis))
	if meta.empty {
		data = appendLabels(append(data, `"security":`...), ls, basis)
		return []fjson.Edit{{Start: meta.open + 1, End: meta.open + 1, Data: data}}
	}
	data = appendLabels(append(data, `,"security":`...), ls, basis)
	return []fjson.Edit{{Start: meta.lastEnd, End: meta.lastEnd, Data: data}}
}

// appendLabels appends ls, labels the Labeller adds, as a JSON array of
// Codings.
func appendLabels(dst []byte, ls Set, basis map[Label]string) []byte {
	dst = append(dst, '[')
	for k, lb := range ls {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = appendLabel(dst, lb, basis[lb])
	}
	return append(dst, ']')
}

// basisOf returns the policy basis of each label r's reasons give one.
func basisOf(r Result) map[Label]string {
	var m map[Label]string
	for _, rs := range r.Reasons {
		if rs.Basis != "" {
			if m == nil {
				m = map[Label]string{}
			}
			m[rs.Label] = rs.Basis
		}
	}
	return m
}

// labelsSize is about the length appendLabels writes for ls (escapes
// aside), so that a buffer made for it need not grow on the way: a
// Bundle's items each get their labels written.
func labelsSize(ls Set, basis map[Label]string) int {
	n := len("[]") + max(len(ls)-1, 0) // the commas between
	for _, lb := range ls {
		n += labelSize(lb, basis[lb])
	}
	return n
}

// labelSize is about the length appendLabel writes (escapes aside).
func labelSize(lb Label, basis string) int {
	n := len(labelHead) + len(`],"system":"","code":""}`) + len(lb.System) + len(lb.Code)
	if basis != "" {
		n += len(basisHead) + len(`""}}`) + len(basis)
	}
	return n
}

// labelHead and basisHead begin a label's JSON and its basis extension.
const (
	labelHead = `{"extension":[{"url":"` + ExtClassifier + `","valueReference":{"display":"` + Classifier + `"}}`
	basisHead = `,{"url":"` + ExtBasis + `","valueCoding":{"system":"` + SystemActCode + `","code":`
)

// appendLabel appends one label the Labeller adds as
// {"extension":[classifier, basis],"system":...,"code":...}: the DS4P
// extension-sec-label-classifier names ds4p, and
// extension-sec-label-basis the policy (v3-ActCode) when basis is set.
func appendLabel(dst []byte, lb Label, basis string) []byte {
	dst = append(dst, labelHead...)
	if basis != "" {
		dst = append(dst, basisHead...)
		dst = append(fjson.AppendString(dst, basis), "}}"...)
	}
	dst = fjson.AppendString(append(dst, `],"system":`...), lb.System)
	dst = fjson.AppendString(append(dst, `,"code":`...), lb.Code)
	return append(dst, '}')
}

// entry is one existing meta.security element.
type entry struct {
	start, end int
	label      Label
	ok         bool // the element has a code
	exact      bool // and spells label as ds4p writes it (readLabel)
}

// readEntries reads the elements of the meta.security array at start.
func readEntries(b []byte, start int) ([]entry, error) {
	if b[start] != '[' {
		return nil, errors.New(`labels: "meta.security" is not an array`)
	}
	var out []entry
	_, err := fjson.ArrayScan(b, start, func(e int) (int, error) {
		end, lb, ok, exact, err := readLabel(b, e, false)
		out = append(out, entry{start: e, end: end, label: lb, ok: ok, exact: exact})
		return end, err
	})
	if err != nil {
		return nil, fmt.Errorf("labels: reading meta.security: %w", err)
	}
	return out, nil
}

// mergeEntries returns the edits that bring the security array at open,
// holding entries, to want: the first lower confidentiality entry becomes
// the highest one, wanted or present (unless that is already there), other
// lower ones go, and missing labels are appended.
func mergeEntries(entries []entry, open int, want Set, basis map[Label]string) []fjson.Edit {
	// An entry spelt otherwise than ds4p writes its label stays as it
	// came, and the label is appended as written (Result.Respelt).
	have := make([]Label, 0, len(entries))
	for _, e := range entries {
		if e.ok && e.exact {
			have = append(have, e.label)
		}
	}
	present := toSet(have)
	// The highest of both, so that no Result can lower what is there.
	conf, hasConf := want.Union(present).Confidentiality()
	top := Label{System: SystemConfidentiality, Code: conf}
	replace, remove := -1, make([]bool, len(entries))
	for k, e := range entries {
		if !hasConf || !e.ok || !isConfidentiality(e.label) || e.label.Code == conf {
			continue
		}
		if replace < 0 && !present.Has(top) {
			replace = k
			continue
		}
		remove[k] = true
	}
	var edits []fjson.Edit
	if replace >= 0 {
		e := entries[replace]
		data := make([]byte, 0, labelSize(top, basis[top]))
		edits = append(edits, fjson.Edit{Start: e.start, End: e.end, Data: appendLabel(data, top, basis[top])})
	}
	edits = append(edits, removals(entries, remove)...)
	edits = append(edits, appendMissing(entries, remove, open, missing(want, present, conf, replace >= 0), basis)...)
	slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
	return edits
}

// missing returns the labels of want to append: those not present, leaving
// out every confidentiality label but the highest, and that one too when it
// replaces an entry.
func missing(want, present Set, conf string, replaced bool) Set {
	var out Set
	for _, lb := range want {
		if present.Has(lb) || (isConfidentiality(lb) && (lb.Code != conf || replaced)) {
			continue
		}
		out = append(out, lb)
	}
	return out
}

// removals returns the edits that delete the marked entries together with
// the commas that separate them from the entries kept.
func removals(entries []entry, remove []bool) []fjson.Edit {
	if !slices.Contains(remove, true) {
		return nil
	}
	first := slices.Index(remove, false)
	if first < 0 {
		last := entries[len(entries)-1]
		return []fjson.Edit{{Start: entries[0].start, End: last.end}}
	}
	var edits []fjson.Edit
	if first > 0 {
		edits = append(edits, fjson.Edit{Start: entries[0].start, End: entries[first].start})
	}
	for k := first + 1; k < len(entries); k++ {
		if remove[k] {
			edits = append(edits, fjson.Edit{Start: entries[k-1].end, End: entries[k].end})
		}
	}
	return edits
}

// appendMissing returns the edit that appends ls after the last entry, or
// inside the empty array at open.
func appendMissing(entries []entry, remove []bool, open int, ls Set, basis map[Label]string) []fjson.Edit {
	if len(ls) == 0 {
		return nil
	}
	// ",[...]" in one buffer: the elements, without brackets, after a
	// comma when an entry stays before them
	buf := appendLabels(append(make([]byte, 0, 1+labelsSize(ls, basis)), ','), ls, basis)
	data := buf[2 : len(buf)-1]
	if len(entries) == 0 {
		return []fjson.Edit{{Start: open + 1, End: open + 1, Data: data}}
	}
	if slices.Contains(remove, false) {
		data = append(buf[:1], data...) // moved back over the bracket
	}
	at := entries[len(entries)-1].end
	return []fjson.Edit{{Start: at, End: at, Data: data}}
}

// Package jsonmerge applies an update that a caller wrote against its view
// of a stored JSON resource to the stored resource itself.
//
// The proxy shows a caller a view of the stored resource: the stored bytes
// with edits spliced in (elements the caller may not see removed, values
// masked, attachment URLs rewritten, labels added). A caller that reads
// the view, changes it and writes it back (an update) would, if its body
// were stored as it is, erase what the view left out: the EHR would lose
// data the caller never saw. Merge takes the stored bytes, the edits that
// made the view and the caller's body, and returns the body to store:
//
//   - a value the caller left as the view showed it is stored as it was
//     stored (what the view masked, rewrote or cut inside it comes back);
//   - a value the proxy did not touch is the caller's, as written;
//   - a member or array element the view left out comes back where it
//     was, unless the caller wrote a member of the same name (then the
//     caller's value is stored: it wrote that element knowingly);
//   - what the proxy added to the view (labels in meta.security, inline
//     label extensions) is removed again, and the stored labels the view
//     did not show are kept: meta.security is merged as a set of
//     system|code;
//   - a member the caller deleted is deleted with what of it was cut,
//     except the cut elements of an array, which are kept (each is an
//     element of its own: a List entry, a claim item).
//
// Arrays are matched element by element: by position when the caller kept
// the array's length, else by the longest run of unchanged elements. When
// the caller changed the length and an element with cut parts cannot be
// matched, while elements it cannot match were added, Merge cannot tell an
// edit from a delete and returns ErrAmbiguous rather than guess.
//
// Merge never reads the caller's body for anything but its values: what
// it returns is the caller's JSON and stored JSON, byte for byte at the
// leaves (numbers keep their precision).
package jsonmerge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/ds4p/ds4p/internal/fjson"
)

// ErrAmbiguous: the caller changed an array's length and an element with
// cut parts could be either edited or deleted.
var ErrAmbiguous = errors.New("jsonmerge: the update changes an array one of whose elements was shown in part, and which stored element it replaces cannot be told")

// ShapeError: the update gives a member the view shows as an array a value
// of another kind (FHIR repeating elements are arrays). Said of what the
// caller sees alone, whatever was cut.
type ShapeError struct{ Member string }

func (e *ShapeError) Error() string {
	return "jsonmerge: " + e.Member + " is an array; the update gives it another kind of value"
}

// errMapping: the edits do not describe the view (a bug, never the
// caller's doing).
var errMapping = errors.New("jsonmerge: the view does not follow from the stored resource and its edits")

// Merge returns the caller's body n applied to stored, where the caller
// saw stored with edits (sorted, non-overlapping, as fjson.Apply takes
// them). stored and n must be valid JSON objects (the proxy validates
// both before).
func Merge(stored []byte, edits []fjson.Edit, n []byte) ([]byte, error) {
	out, _, err := MergeTracked(stored, edits, n)
	return out, err
}

// Span is a byte range [Start, End) of a merged body.
type Span struct{ Start, End int }

// MergeTracked is Merge that also returns where in the merged body each
// value lies that the caller's view did not show as stored (cut, masked,
// rewritten), other than labels in a meta: what the merge restored that
// the caller was not shown. The proxy checks that the caller's view of the
// merged body still does not show them (writemerge.go).
func MergeTracked(stored []byte, edits []fjson.Edit, n []byte) ([]byte, []Span, error) {
	view, err := fjson.Apply(nil, stored, edits)
	if err != nil {
		return nil, nil, err
	}
	m := &merger{edits: edits}
	m.prefix = make([]int, len(edits)+1)
	for i, e := range edits {
		m.prefix[i+1] = m.prefix[i] + len(e.Data) - (e.End - e.Start)
	}
	s, err := parse(stored)
	if err != nil {
		return nil, nil, fmt.Errorf("jsonmerge: stored: %w", err)
	}
	v, err := parse(view)
	if err != nil {
		return nil, nil, fmt.Errorf("jsonmerge: view: %w", err)
	}
	c, err := parse(n)
	if err != nil {
		return nil, nil, fmt.Errorf("jsonmerge: update: %w", err)
	}
	if s.kind != '{' || v.kind != '{' || c.kind != '{' {
		return nil, nil, errors.New("jsonmerge: not a JSON object")
	}
	// Checked whatever the edits, so that the answer tells nothing of them.
	for ci, k := range c.keys {
		if vk, _ := v.get(k); vk != nil && vk.kind == '[' && c.kids[ci].kind != '[' && c.kids[ci].kind != 'n' {
			return nil, nil, &ShapeError{Member: k}
		}
	}
	if m.state(s) == untouched {
		return append([]byte(nil), n...), nil, nil
	}
	out, err := m.merge(s, v, c, "")
	if err != nil {
		return nil, nil, err
	}
	markStored(s)
	m.hiddenSpans(s)
	b := m.emit(nil, out)
	return b, m.restored, nil
}

// markStored marks the stored tree's nodes.
func markStored(n *node) {
	n.stored = true
	for _, k := range n.kids {
		markStored(k)
	}
}

// hiddenSpans collects the spans of the stored values the view did not
// show as stored, not descending into them, nor into a meta (labels
// are the proxy's to show or not, never data the caller was kept from).
func (m *merger) hiddenSpans(s *node) {
	switch m.state(s) {
	case untouched:
		return
	case cut, replaced:
		if s.kind == '[' && len(s.kids) > 0 {
			// An array cut whole: its elements, each of which may be
			// restored beside the caller's (mergeObject).
			for _, k := range s.kids {
				m.hiddenAt = append(m.hiddenAt, Span{k.start, k.end})
			}
			return
		}
		m.hiddenAt = append(m.hiddenAt, Span{s.start, s.end})
		return
	}
	for i, k := range s.kids {
		if s.kind == '{' && s.keys[i] == "meta" {
			continue
		}
		m.hiddenSpans(k)
	}
}

// emit appends n as JSON (stored and caller's values byte for byte) and
// records where the hidden stored values land.
func (m *merger) emit(dst []byte, n *node) []byte {
	if !n.built {
		if n.stored {
			i := sort.Search(len(m.hiddenAt), func(i int) bool { return m.hiddenAt[i].Start >= n.start })
			for ; i < len(m.hiddenAt) && m.hiddenAt[i].End <= n.end; i++ {
				h := m.hiddenAt[i]
				m.restored = append(m.restored, Span{len(dst) + h.Start - n.start, len(dst) + h.End - n.start})
			}
		}
		return append(dst, n.src[n.start:n.end]...)
	}
	switch n.kind {
	case '{':
		dst = append(dst, '{')
		for i, k := range n.rawKeys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, '"'), k...), '"', ':')
			dst = m.emit(dst, n.kids[i])
		}
		return append(dst, '}')
	default:
		dst = append(dst, '[')
		for i, k := range n.kids {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = m.emit(dst, k)
		}
		return append(dst, ']')
	}
}

// node is one JSON value, with its span in src.
type node struct {
	src        []byte
	start, end int
	kind       byte     // '{' '[' '"' or the first byte of a literal or number
	keys       []string // objects: decoded keys
	rawKeys    [][]byte // objects: keys as written, without the quotes
	kids       []*node
	// built: a value Merge composed (no span of its own).
	built bool
	// stored: a node of the stored tree.
	stored bool
}

func parse(b []byte) (*node, error) {
	s := fjson.SkipSpace(b, 0)
	e, err := fjson.SkipValue(b, s)
	if err != nil {
		return nil, err
	}
	return build(b, s, e)
}

func build(b []byte, s, e int) (*node, error) {
	s = fjson.SkipSpace(b, s)
	for e > s && isSpace(b[e-1]) {
		e--
	}
	if s >= e {
		return nil, errors.New("empty value")
	}
	n := &node{src: b, start: s, end: e, kind: b[s]}
	var err error
	switch n.kind {
	case '{':
		err = fjson.ObjectEach(b, s, func(key []byte, vs, ve int) error {
			k, err := decodeKey(key)
			if err != nil {
				return err
			}
			kid, err := build(b, vs, ve)
			if err != nil {
				return err
			}
			n.keys, n.rawKeys, n.kids = append(n.keys, k), append(n.rawKeys, key), append(n.kids, kid)
			return nil
		})
	case '[':
		err = fjson.ArrayEach(b, s, func(vs, ve int) error {
			kid, err := build(b, vs, ve)
			if err == nil {
				n.kids = append(n.kids, kid)
			}
			return err
		})
	}
	return n, err
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func decodeKey(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), nil
	}
	var k string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if err := json.Unmarshal(q, &k); err != nil {
		return "", err
	}
	return k, nil
}

func (n *node) get(key string) (*node, int) {
	for i, k := range n.keys {
		if k == key {
			return n.kids[i], i
		}
	}
	return nil, -1
}

// str is a string node's decoded value ("" for other kinds).
func (n *node) str() string {
	if n.kind != '"' {
		return ""
	}
	s, _ := fjson.StringValue(n.src, n.start, n.end)
	return s
}

// equal compares two values as JSON: members in any order, strings by
// their decoded value, numbers and literals as written.
func equal(a, b *node) bool {
	if a.kind != b.kind {
		return false
	}
	if !a.built && !b.built && bytes.Equal(a.src[a.start:a.end], b.src[b.start:b.end]) {
		return true
	}
	switch a.kind {
	case '{':
		if len(a.keys) != len(b.keys) {
			return false
		}
		for i, k := range a.keys {
			bk, _ := b.get(k)
			if bk == nil || !equal(a.kids[i], bk) {
				return false
			}
		}
		return true
	case '[':
		if len(a.kids) != len(b.kids) {
			return false
		}
		for i := range a.kids {
			if !equal(a.kids[i], b.kids[i]) {
				return false
			}
		}
		return true
	case '"':
		return a.str() == b.str()
	}
	return false // literals and numbers: equal only as written
}

// What the edits did to a stored value.
type state int

const (
	untouched state = iota // the view shows it byte for byte
	changed                // edits inside it: its members or elements differ
	replaced               // an edit replaced it whole (a masked string, a rewritten URL)
	cut                    // an edit removed it with its member or array slot
)

type merger struct {
	edits    []fjson.Edit
	prefix   []int  // prefix[i]: the length change of edits[:i]
	hiddenAt []Span // stored values the view did not show (hiddenSpans), in order
	restored []Span // where they landed in the merged body (emit)
}

// state classifies the stored value s by the edits.
func (m *merger) state(s *node) state {
	a, b := s.start, s.end
	// The first edit that ends at or after a.
	i := sort.Search(len(m.edits), func(i int) bool { return m.edits[i].End >= a })
	st := untouched
	for ; i < len(m.edits) && m.edits[i].Start <= b; i++ {
		e := m.edits[i]
		switch {
		case e.Start == e.End: // an insertion
			if e.Start > a && e.Start < b {
				st = changed
			}
		case e.Start == a && e.End == b && len(e.Data) > 0:
			return replaced
		case e.Start <= a && e.End >= b:
			return cut
		case e.Start < b && e.End > a:
			st = changed
		}
	}
	return st
}

// viewPos is where the stored offset p lies in the view: what the edits
// that end at or before p (insertions at p among them) added or removed.
func (m *merger) viewPos(p int) int {
	i := sort.Search(len(m.edits), func(i int) bool { return m.edits[i].End > p })
	return p + m.prefix[i]
}

// counterpart returns the child of the view value v that the stored child
// sk (not cut) became, by its position.
func (m *merger) counterpart(v *node, sk *node) (int, error) {
	p := m.viewPos(sk.start)
	i := sort.Search(len(v.kids), func(i int) bool { return v.kids[i].start >= p })
	if i == len(v.kids) || v.kids[i].start != p {
		return 0, errMapping
	}
	return i, nil
}

// align maps the stored children of s to the view children of v: for each
// stored child, the view child's index or -1 when it was cut; and for each
// view child whether a stored child became it (false: the proxy added it).
func (m *merger) align(s, v *node) (toView []int, derived []bool, err error) {
	toView = make([]int, len(s.kids))
	derived = make([]bool, len(v.kids))
	for i, sk := range s.kids {
		if m.state(sk) == cut {
			toView[i] = -1
			continue
		}
		j, err := m.counterpart(v, sk)
		if err != nil {
			return nil, nil, err
		}
		if s.kind == '{' && v.keys[j] != s.keys[i] {
			return nil, nil, errMapping
		}
		toView[i], derived[j] = j, true
	}
	return toView, derived, nil
}

// hidden reports whether the view shows s less than whole: something in it
// was cut or replaced (insertions alone hide nothing).
func (m *merger) hidden(s *node) bool {
	switch m.state(s) {
	case untouched:
		return false
	case replaced, cut:
		return true
	}
	for _, k := range s.kids {
		if m.hidden(k) {
			return true
		}
	}
	return false
}

// merge returns the value to store for the stored value s, shown as v,
// written as n. key is the member name s is the value of ("" in arrays).
func (m *merger) merge(s, v, n *node, key string) (*node, error) {
	switch m.state(s) {
	case untouched:
		return n, nil
	case replaced:
		if equal(v, n) {
			return s, nil
		}
		return n, nil
	}
	if equal(v, n) {
		return s, nil
	}
	switch {
	case s.kind == '{' && v.kind == '{' && n.kind == '{':
		return m.mergeObject(s, v, n, key == "meta")
	case s.kind == '[' && v.kind == '[' && n.kind == '[':
		return m.mergeArray(s, v, n)
	}
	return n, nil
}

func (m *merger) mergeObject(s, v, n *node, meta bool) (*node, error) {
	toView, derived, err := m.align(s, v)
	if err != nil {
		return nil, err
	}
	fromView := make([]int, len(v.kids)) // view child -> stored child
	for j := range fromView {
		fromView[j] = -1
	}
	for i, j := range toView {
		if j >= 0 {
			fromView[j] = i
		}
	}
	out := &node{kind: '{', built: true}
	add := func(raw []byte, key string, val *node) {
		if val != nil {
			out.rawKeys, out.keys, out.kids = append(out.rawKeys, raw), append(out.keys, key), append(out.kids, val)
		}
	}
	for ci, k := range n.keys {
		nk := n.kids[ci]
		if nk.kind == 'n' {
			continue // null: FHIR has none; read as the member left out
		}
		vk, j := v.get(k)
		if vk != nil && vk.kind == '[' && nk.kind != '[' {
			return nil, &ShapeError{Member: k}
		}
		if meta && k == "security" {
			var sk *node
			if j >= 0 && derived[j] {
				sk = s.kids[fromView[j]]
			} else if x, _ := s.get(k); x != nil {
				sk = x
			}
			add(n.rawKeys[ci], k, m.mergeLabels(sk, vk, nk))
			continue
		}
		switch {
		case vk != nil && derived[j]:
			val, err := m.merge(s.kids[fromView[j]], vk, nk, k)
			if err != nil {
				return nil, err
			}
			add(n.rawKeys[ci], k, val)
		case vk != nil: // the proxy added this member
			add(n.rawKeys[ci], k, m.stripAdded(vk, nk, k))
		default: // the caller's own member, or one it wrote over a cut one
			if sk, i := s.get(k); sk != nil && toView[i] < 0 && sk.kind == '[' && nk.kind == '[' {
				// An array cut whole (each of its elements was): the
				// caller's elements join them, as they would join the
				// elements left of an array cut in part (QA round 11:
				// "add /diagnosis" erased the only, SUD, diagnosis).
				add(n.rawKeys[ci], k, &node{kind: '[', built: true, kids: append(slices.Clip(sk.kids), nk.kids...)})
				continue
			} else if sk != nil && toView[i] < 0 && sk.kind == '[' {
				// Another kind of value over an array cut whole would
				// erase its elements on a server that takes it (QA
				// round 12): refused as over an array the view shows.
				return nil, &ShapeError{Member: k}
			}
			add(n.rawKeys[ci], k, nk)
		}
	}
	for i, k := range s.keys {
		if nk, ci := n.get(k); ci >= 0 && nk.kind != 'n' {
			continue
		}
		sk := s.kids[i]
		if toView[i] < 0 {
			add(s.rawKeys[i], k, sk) // cut from the view: kept
			continue
		}
		if meta && k == "security" {
			// The caller dropped meta.security: the labels it never saw stay.
			add(s.rawKeys[i], k, m.mergeLabels(sk, v.kids[toView[i]], nil))
			continue
		}
		// The caller deleted it: what of an array was cut stays.
		if sk.kind == '[' && m.state(sk) == changed {
			add(s.rawKeys[i], k, m.cutElements(sk))
		}
	}
	return out, nil
}

// cutElements returns the elements of the stored array s that the view
// left out, as an array, or nil when there are none.
func (m *merger) cutElements(s *node) *node {
	out := &node{kind: '[', built: true}
	for _, k := range s.kids {
		if m.state(k) == cut {
			out.kids = append(out.kids, k)
		}
	}
	if len(out.kids) == 0 {
		return nil
	}
	return out
}

// stripAdded returns what to store of n, written where the view showed v,
// a value the proxy added (nothing was stored there): n without what of v
// it kept; nil when nothing is left.
func (m *merger) stripAdded(v, n *node, key string) *node {
	if equal(v, n) {
		return nil
	}
	switch {
	case v.kind == '{' && n.kind == '{':
		out := &node{kind: '{', built: true}
		for ci, k := range n.keys {
			nk := n.kids[ci]
			if vk, _ := v.get(k); vk != nil {
				if key == "meta" && k == "security" {
					nk = m.mergeLabels(nil, vk, nk)
				} else {
					nk = m.stripAdded(vk, nk, k)
				}
			}
			if nk != nil {
				out.rawKeys, out.keys, out.kids = append(out.rawKeys, n.rawKeys[ci]), append(out.keys, k), append(out.kids, nk)
			}
		}
		if len(out.kids) == 0 {
			return nil
		}
		return out
	case v.kind == '[' && n.kind == '[':
		out := &node{kind: '[', built: true}
		for _, nk := range n.kids {
			if !containsEqual(v.kids, nk) {
				out.kids = append(out.kids, nk)
			}
		}
		if len(out.kids) == 0 {
			return nil
		}
		return out
	}
	return n
}

func containsEqual(list []*node, x *node) bool {
	for _, k := range list {
		if equal(k, x) {
			return true
		}
	}
	return false
}

// labelKey is a Coding's system|code.
func labelKey(c *node) string {
	if c.kind != '{' {
		return string(c.src[c.start:c.end])
	}
	var system, code string
	if x, _ := c.get("system"); x != nil {
		system = x.str()
	}
	if x, _ := c.get("code"); x != nil {
		code = x.str()
	}
	return system + "|" + code
}

// mergeLabels merges meta.security as a set of system|code: the caller's
// labels without those the proxy added to the view, and the stored labels
// the view did not show. s, v and n may each be nil (absent).
func (m *merger) mergeLabels(s, v, n *node) *node {
	stored, shown := map[string]bool{}, map[string]bool{}
	if s != nil && s.kind == '[' {
		for _, k := range s.kids {
			stored[labelKey(k)] = true
		}
	}
	if v != nil && v.kind == '[' {
		for _, k := range v.kids {
			shown[labelKey(k)] = true
		}
	}
	if n != nil && n.kind != '[' {
		return n // not an array: the caller's, for the server to refuse
	}
	out := &node{kind: '[', built: true}
	have := map[string]bool{}
	if n != nil {
		for _, k := range n.kids {
			key := labelKey(k)
			if shown[key] && !stored[key] {
				continue // the proxy's, not the record's
			}
			have[key] = true
			out.kids = append(out.kids, k)
		}
	}
	if s != nil && s.kind == '[' {
		for _, k := range s.kids {
			if key := labelKey(k); !shown[key] && !have[key] {
				have[key] = true
				out.kids = append(out.kids, k)
			}
		}
	}
	if len(out.kids) == 0 {
		return nil
	}
	return out
}

func (m *merger) mergeArray(s, v, n *node) (*node, error) {
	toView, derived, err := m.align(s, v)
	if err != nil {
		return nil, err
	}
	// Match the caller's elements to the view's.
	nToV := matchArrays(v.kids, n.kids)
	vToN := make([]int, len(v.kids))
	for j := range vToN {
		vToN[j] = -1
	}
	for c, j := range nToV {
		if j >= 0 {
			vToN[j] = c
		}
	}
	fromView := make([]int, len(v.kids))
	for j := range fromView {
		fromView[j] = -1
	}
	for i, j := range toView {
		if j >= 0 {
			fromView[j] = i
		}
	}
	unmatchedN := false
	for _, j := range nToV {
		if j < 0 {
			unmatchedN = true
		}
	}
	if unmatchedN {
		for j, c := range vToN {
			if c < 0 && derived[j] && m.hidden(s.kids[fromView[j]]) {
				return nil, ErrAmbiguous
			}
		}
	}
	// The caller's elements, merged with what they were stored as.
	vals := make([]*node, len(n.kids))
	for c, nk := range n.kids {
		j := nToV[c]
		switch {
		case j < 0:
			vals[c] = nk
		case derived[j]:
			val, err := m.merge(s.kids[fromView[j]], v.kids[j], nk, "")
			if err != nil {
				return nil, err
			}
			vals[c] = val
		case equal(v.kids[j], nk):
			vals[c] = nil // added by the proxy, kept as shown: not stored
		default:
			vals[c] = nk
		}
	}
	// The cut elements go back after the caller's element that holds the
	// stored element before them (or before the first that holds one after
	// them, or at the end).
	before := make([][]*node, len(n.kids)+1) // before[c]: cut elements to put before caller element c
	anchorAfter := -1                        // caller index of the last placed stored element
	var pending []*node
	for i, sk := range s.kids {
		if toView[i] < 0 {
			if anchorAfter >= 0 {
				before[anchorAfter+1] = append(before[anchorAfter+1], sk)
			} else {
				pending = append(pending, sk)
			}
			continue
		}
		if c := vToN[toView[i]]; c >= 0 {
			if len(pending) > 0 {
				before[c] = append(before[c], pending...)
				pending = nil
			}
			if c > anchorAfter {
				anchorAfter = c
			}
		}
	}
	out := &node{kind: '[', built: true}
	for c := 0; c <= len(n.kids); c++ {
		out.kids = append(out.kids, before[c]...)
		if c < len(n.kids) && vals[c] != nil {
			out.kids = append(out.kids, vals[c])
		}
	}
	out.kids = append(out.kids, pending...)
	return out, nil
}

// matchArrays matches the caller's elements n to the view's v: by position
// when the lengths agree, else equal elements in order (a common prefix and
// suffix, then the longest common subsequence of what is between, when
// small enough). It returns, for each caller element, the view index or -1.
func matchArrays(v, n []*node) []int {
	out := make([]int, len(n))
	if len(v) == len(n) {
		return matchSameLength(v, n, out)
	}
	for i := range out {
		out[i] = -1
	}
	p := 0
	for p < len(v) && p < len(n) && equal(v[p], n[p]) {
		out[p] = p
		p++
	}
	q := 0
	for q < len(v)-p && q < len(n)-p && equal(v[len(v)-1-q], n[len(n)-1-q]) {
		out[len(n)-1-q] = len(v) - 1 - q
		q++
	}
	vm, nm := v[p:len(v)-q], n[p:len(n)-q]
	if len(vm) == 0 || len(nm) == 0 || len(vm)*len(nm) > 1<<16 {
		return out
	}
	// Longest common subsequence of the middles.
	w := len(nm) + 1
	t := make([]int32, (len(vm)+1)*w)
	for i := len(vm) - 1; i >= 0; i-- {
		for j := len(nm) - 1; j >= 0; j-- {
			if equal(vm[i], nm[j]) {
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			} else {
				t[i*w+j] = max(t[(i+1)*w+j], t[i*w+j+1])
			}
		}
	}
	for i, j := 0, 0; i < len(vm) && j < len(nm); {
		switch {
		case equal(vm[i], nm[j]):
			out[p+j] = p + i
			i++
			j++
		case t[(i+1)*w+j] >= t[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

// matchSameLength matches the caller's elements n to the view's v of the
// same length: an element left as shown to itself, then one the caller
// moved to the element it equals, then the rest by position. Matching by
// position alone moved what was cut from an element to whichever element
// the caller put in its place (QA round 13 swapped two attachments and
// each took the other's data).
func matchSameLength(v, n []*node, out []int) []int {
	usedV := make([]bool, len(v))
	moved := false
	for c := range n {
		out[c] = -1
		if equal(v[c], n[c]) {
			out[c], usedV[c] = c, true
		} else {
			moved = true
		}
	}
	if !moved {
		return out
	}
	if len(n) <= 256 { // a bound on the pairs compared, as the LCS has
		for c := range n {
			if out[c] >= 0 {
				continue
			}
			for j := range v {
				if !usedV[j] && !equal(v[j], n[j]) && equal(v[j], n[c]) {
					out[c], usedV[j] = j, true
					break
				}
			}
		}
	}
	// The rest in order: as many caller elements are left as view
	// elements, so each gets one (a swap with an edit is then no more
	// ambiguous than an edit in place).
	j := 0
	for c := range n {
		if out[c] >= 0 {
			continue
		}
		for usedV[j] {
			j++
		}
		out[c], usedV[j] = j, true
	}
	return out
}

// Normalize returns the JSON object b without what FHIR JSON does not
// allow and readers treat as they like: members whose value is null and
// members that are empty arrays, at any depth (nulls inside arrays stay:
// FHIR pairs them with the _name array of a primitive's extensions). A
// body with neither is returned as it is. Merging the caller's body only
// after this makes "name":[] and "name":null mean the member left out on
// every resource, rather than what is stored (cut elements kept) on some
// and what the server makes of them on others (QA round 12 told enrolled
// Patients from plain ones by it).
func Normalize(b []byte) ([]byte, error) {
	n, err := parse(b)
	if err != nil {
		return nil, err
	}
	out, changed := normalize(n)
	if !changed {
		return b, nil
	}
	return (&merger{}).emit(nil, out), nil
}

func normalize(n *node) (*node, bool) {
	switch n.kind {
	case '{':
		var out *node
		for i, k := range n.kids {
			drop := k.kind == 'n' || k.kind == '[' && len(k.kids) == 0
			nk, changed := k, false
			if !drop {
				nk, changed = normalize(k)
			}
			if (drop || changed) && out == nil {
				out = &node{kind: '{', built: true, rawKeys: slices.Clone(n.rawKeys[:i]), keys: slices.Clone(n.keys[:i]), kids: slices.Clone(n.kids[:i])}
			}
			if out != nil && !drop {
				out.rawKeys, out.keys, out.kids = append(out.rawKeys, n.rawKeys[i]), append(out.keys, n.keys[i]), append(out.kids, nk)
			}
		}
		if out == nil {
			return n, false
		}
		return out, true
	case '[':
		var out *node
		for i, k := range n.kids {
			nk, changed := normalize(k)
			if changed && out == nil {
				out = &node{kind: '[', built: true, kids: slices.Clone(n.kids[:i])}
			}
			if out != nil {
				out.kids = append(out.kids, nk)
			}
		}
		if out == nil {
			return n, false
		}
		return out, true
	}
	return n, false
}

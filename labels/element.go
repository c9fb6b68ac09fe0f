package labels

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
)

// ElementLabel is an element-level (inline) label set: the labels of one
// element of a resource, written as DS4P extension-inline-sec-label
// extensions on the element. Start and End are the byte offsets of the
// element (a JSON object) in the labelled resource, so that enforcement can
// splice it out.
type ElementLabel struct {
	Path       string // e.g. "diagnosis[1]" or "result[0]"
	Start, End int
	Labels     Set // every label of the element: Existing plus derived ones
	Existing   Set `json:",omitempty"` // inline labels the element already had
}

// Span is a range of bytes of a labelled resource.
type Span struct{ Start, End int }

// segmentable lists, per resource type, the top-level array members whose
// elements can be removed on their own: a sensitive code or reference
// inside one of their elements labels that element, not the resource,
// when the resource also has ordinary elements there (see settle).
var segmentable = map[string][]string{
	"ExplanationOfBenefit": {"diagnosis", "item", "procedure"},
	"Claim":                {"diagnosis", "item", "procedure"},
	// A ClaimResponse's items, added items and errors name the items of
	// its Claim by their sequence (itemSequence): each gets the labels of
	// the Claim's item of that number (inheritClaim), so that it is cut
	// with the same decision as that item.
	"ClaimResponse":    {"item", "addItem", "error"},
	"Encounter":        {"diagnosis"},
	"CarePlan":         {"activity"},
	"DiagnosticReport": {"result"},
	"List":             {"entry"},
	"Composition":      {"section"},
}

// memberSegmentable reports whether member is segmentable in typ.
func memberSegmentable(typ, member string) bool {
	return slices.Contains(segmentable[typ], member)
}

// segNames are the member names of segmentable, numbered from 1 in elemRef.
var segNames = [...]string{"diagnosis", "item", "procedure", "activity", "result", "entry", "section", "addItem", "error"}

// elemRef names element idx of the top-level array segNames[member-1];
// member 0 is no element.
type elemRef struct {
	member uint8
	idx    int32
}

func (e elemRef) ok() bool { return e.member > 0 }

func (e elemRef) name() string { return segNames[e.member-1] }

// path renders the element's path, e.g. "diagnosis[1]".
func (e elemRef) path() string {
	return e.name() + "[" + strconv.Itoa(int(e.idx)) + "]"
}

// segmentableIn reports whether e's member can be segmented in typ.
func (e elemRef) segmentableIn(typ string) bool {
	if !e.ok() {
		return false
	}
	for _, m := range segmentable[typ] {
		if m == e.name() {
			return true
		}
	}
	return false
}

// currentElem returns the element of a candidate array that the walk is
// in, whatever the resource type (it may not be known yet).
func (w *walker) currentElem() elemRef {
	if w.depth < 2 || w.path[0].end < 0 || w.path[1].end >= 0 {
		return elemRef{}
	}
	name := w.b[w.path[0].start:w.path[0].end]
	for k, n := range segNames {
		if fjson.KeyIs(name, n) { // "entr\u0079" is entry to every JSON client
			return elemRef{member: uint8(k + 1), idx: w.path[1].start}
		}
	}
	return elemRef{}
}

// elemState is what a Result knows about one segmentable element: labels
// derived from codes in it or references from it.
type elemState struct {
	ref    elemRef
	labels Set
}

// pendingInline is an existing inline label whose owning element (the
// object at depth owner) has not been closed yet.
type pendingInline struct {
	label Label
	owner int
}

// noteInline records the inline label in the extension object just walked
// (c), owned by the object two levels up (past "extension" and the index),
// or one level up when the extension is written as one object rather than
// an array of one (invalid FHIR JSON, but a server may store it, and other
// readers take it as the array's one element). Taken two levels up, such
// a label was given to the next object closed at that depth (an element
// beside the one it labels, which was cut instead) or to none, and the
// element it labelled went out as ordinary data.
func (w *walker) noteInline(c *coding) {
	if !c.url.seen || !c.urlStr || !c.valueCoding.seen || w.depth < 1 || w.b[c.valueCoding.start] != '{' {
		return
	}
	owner := w.depth - 1
	if w.path[w.depth-1].end < 0 { // an element of the extension array
		owner--
	}
	if owner < 0 || !isInlineURL(decodedBytes(w.b, c.url)) {
		return
	}
	_, lb, ok, _, err := readLabel(w.b, c.valueCoding.start, w.valid || w.check != nil) // walked (and checked) already
	if err != nil || !ok {
		return
	}
	w.pending = append(w.pending, pendingInline{label: lb, owner: owner})
}

// IsInlineURL is isInlineURL for a url as a string: the proxy's write
// guard (proxy/writelabels.go) reads the labels a write would remove as
// the labeller reads them.
func IsInlineURL(u string) bool {
	return isInlineURL([]byte(u))
}

// isInlineURL reports whether an extension's url is ExtInline, also as
// servers accept it: white space around it, https, "www.", another case,
// trailing slashes, a "|version" suffix. An inline label under such a url
// read as another extension would leave its element ordinary (QA round 25).
func isInlineURL(u []byte) bool {
	if string(u) == ExtInline {
		return true
	}
	u = bytes.TrimSpace(u)
	if i := bytes.IndexByte(u, '|'); i >= 0 {
		u = bytes.TrimSpace(u[:i])
	}
	switch {
	case hasPrefixFold(u, "https://"):
		u = u[len("https://"):]
	case hasPrefixFold(u, "http://"):
		u = u[len("http://"):]
	default:
		return false
	}
	if hasPrefixFold(u, "www.") {
		u = u[len("www."):]
	}
	for len(u) > 0 && u[len(u)-1] == '/' {
		u = u[:len(u)-1]
	}
	bare := ExtInline[len("http://"):]
	return len(u) == len(bare) && hasPrefixFold(u, bare)
}

// closeInline gives the pending inline labels owned by the object at
// b[start:end], the one at the current depth, to that object.
func (w *walker) closeInline(start, end int) {
	var ls []Label
	kept := w.pending[:0]
	for _, p := range w.pending {
		if p.owner == w.depth {
			ls = append(ls, p.label)
			continue
		}
		kept = append(kept, p)
	}
	w.pending = kept
	if len(ls) == 0 {
		return
	}
	s := NewSet(ls...)
	w.inline = append(w.inline, ElementLabel{Path: w.pathString(), Start: start, End: end, Labels: s, Existing: s})
}

// isSensitive reports whether l says the data is sensitive: a v3-ActCode
// sensitivity or policy code (not an obligation or refrain), or
// confidentiality R or V.
func isSensitive(l Label) bool {
	switch l.System {
	case SystemActCode:
		return !obligationCodes[l.Code] && !refrainCodes[l.Code]
	case SystemConfidentiality:
		return l.Code == "R" || l.Code == "V"
	}
	return false
}

func anySensitive(s Set) bool {
	for _, l := range s {
		if isSensitive(l) {
			return true
		}
	}
	return false
}

// Effective returns the labels a receiver that cannot remove elements must
// apply to the whole resource: Labels plus the inheritable labels
// (confidentiality, sensitivity, policy, refrain) of every element, with
// one confidentiality.
func (r *Result) Effective() Set {
	out := r.Labels
	for _, e := range r.Elements {
		out = out.Union(inheritable(e.Labels))
	}
	return out.highWater()
}

// WholeResource returns r with its element labels also applied to the
// resource: Labels becomes Effective. The proxy decides contained
// resources on it; the inline labels are still written.
func (r Result) WholeResource() Result {
	eff := r.Effective()
	if eff.Equal(r.Labels) {
		return r
	}
	r.Labels = eff
	r.Changed = true
	r.Mixed = false
	r.MarkNarrative = r.Narrative.End > 0
	return r
}

// addElem adds ls to element e of r; it reports whether that added any.
func (r *Result) addElem(e elemRef, ls Set) bool {
	for k := range r.elems {
		if r.elems[k].ref == e {
			u := r.elems[k].labels.Union(ls).highWater()
			if u.Equal(r.elems[k].labels) {
				return false
			}
			r.elems[k].labels = u
			return true
		}
	}
	r.elems = append(r.elems, elemState{ref: e, labels: ls.highWater()})
	return true
}

// settle computes Labels, Elements, Mixed, Changed and MarkNarrative of r
// (resource b) from what the walk and propagation derived.
//
// A resource is mixed, and gets element labels only (plus
// PROCESSINLINELABEL), when every derived sensitive label comes from
// segmentable elements, it is not a Part 2 record, its existing labels are
// not sensitive already, and at least one element of its segmentable
// members stays ordinary. Otherwise the element labels go to the resource
// as a whole: a resource whose every listed element is sensitive would
// still tell the story once they were removed.
func (r *Result) settle(b []byte) {
	r.followItemPointers(b)
	base := r.Existing.Union(r.derived)
	if len(r.inline) > 0 {
		base = base.Union(Set{ProcessInline})
	}
	r.Mixed = false
	r.Elements = r.inline
	principal := r.principalLabels(b)
	base = base.Union(principal)
	if len(r.elems) > 0 {
		if !anySensitive(base) && r.Program == "" && r.hasOrdinaryElement(b) {
			r.Mixed = true
			base = base.Union(Set{ProcessInline})
			r.Elements = r.mergeElements(b)
		} else {
			for _, e := range r.elems {
				base = base.Union(e.labels)
			}
		}
	}
	r.Labels = base.highWater()
	r.Changed = !r.Labels.Equal(r.Existing) || r.Respelt || r.elementsChanged()
	r.MarkNarrative = r.Narrative.End > 0 && (r.Mixed || anySensitive(r.Labels))
}

// elementsChanged reports whether an element gets labels it lacks.
func (r *Result) elementsChanged() bool {
	for _, e := range r.Elements {
		if !e.Labels.Equal(e.Existing) {
			return true
		}
	}
	return false
}

// hasOrdinaryElement reports whether the resource's segmentable members
// hold more elements than r.elems labels.
func (r *Result) hasOrdinaryElement(b []byte) bool {
	total := 0
	for _, m := range segmentable[r.Type] {
		s, _, ok, err := fjson.Lookup(b, fjson.SkipSpace(b, 0), m)
		if err != nil || !ok || b[s] != '[' {
			continue
		}
		_ = fjson.ArrayEach(b, s, func(int, int) error { total++; return nil })
	}
	n := 0
	for _, e := range r.elems {
		if e.ref.segmentableIn(r.Type) {
			n++
		}
	}
	return total > n
}

// mergeElements returns the existing inline labels with the derived
// element labels merged in, each with its span.
func (r *Result) mergeElements(b []byte) []ElementLabel {
	out := append([]ElementLabel(nil), r.inline...)
	for _, e := range r.elems {
		path := e.ref.path()
		merged := false
		for k := range out {
			if out[k].Path == path {
				out[k].Labels = out[k].Labels.Union(e.labels)
				merged = true
			}
		}
		if merged {
			continue
		}
		s, end, ok := elementSpan(b, e.ref)
		if ok {
			out = append(out, ElementLabel{Path: path, Start: s, End: end, Labels: e.labels})
		}
	}
	return out
}

// elementSpan finds element e in resource b.
func elementSpan(b []byte, e elemRef) (int, int, bool) {
	s, _, ok, err := fjson.Lookup(b, fjson.SkipSpace(b, 0), e.name())
	if err != nil || !ok || b[s] != '[' {
		return 0, 0, false
	}
	var start, end int
	n := int32(0)
	found := false
	_ = fjson.ArrayEach(b, s, func(vs, ve int) error {
		if n == e.idx && b[vs] == '{' {
			start, end, found = vs, ve, true
		}
		n++
		return nil
	})
	return start, end, found
}

// itemPointers are the members by which an item of a Claim or an
// ExplanationOfBenefit names the diagnoses and procedures it was billed
// for, by their sequence.
var itemPointers = [...]struct{ pointer, member string }{
	{"diagnosisSequence", "diagnosis"}, {"procedureSequence", "procedure"},
	// A careTeam member or supportingInfo an upstream labelled inline
	// (QA round 29): followed as the proxy follows them.
	{"careTeamSequence", "careTeam"}, {"informationSequence", "supportingInfo"},
}

// followItemPointers gives an item of a Claim or ExplanationOfBenefit the
// labels of the sensitive diagnoses and procedures it points at: the
// service billed for an SUD diagnosis is about it. Left ordinary, the item
// was written without inline labels beside its labelled diagnosis (a
// receiver honouring inline labels passed it on, amount and code, while
// withholding the diagnosis), and it counted as an ordinary element, so a
// claim whose every item served its SUD diagnosis passed as mixed. The
// proxy cuts such an item along with the diagnosis whatever labelled it
// (proxy/redact.go followSequences).
func (r *Result) followItemPointers(b []byte) {
	if r.Type == "ClaimResponse" {
		r.followResponsePointers(b)
		return
	}
	if r.Type != "Claim" && r.Type != "ExplanationOfBenefit" || len(r.elems)+len(r.inline) == 0 {
		return
	}
	root := fjson.SkipSpace(b, 0)
	if root >= len(b) || b[root] != '{' {
		return
	}
	var bySeq map[string]map[string]Set // member -> sequence (raw) -> labels
	note := func(member string, s int, ls Set) {
		vs, ve, ok, err := fjson.Lookup(b, s, "sequence")
		if err != nil || !ok {
			return
		}
		if bySeq == nil {
			bySeq = map[string]map[string]Set{}
		}
		m := bySeq[member]
		if m == nil {
			m = map[string]Set{}
			bySeq[member] = m
		}
		k := string(bytes.TrimSpace(b[vs:ve]))
		m[k] = m[k].Union(ls)
	}
	for _, e := range r.elems {
		if !e.ref.ok() || e.ref.name() != "diagnosis" && e.ref.name() != "procedure" {
			continue
		}
		s, _, ok := elementSpan(b, e.ref)
		if !ok {
			continue
		}
		note(e.ref.name(), s, e.labels)
	}
	// Elements the upstream labelled inline as a whole (the proxy cuts
	// the items pointing at them, followSequences): the items get their
	// labels, as for derived ones, so that they are written with them.
	for _, in := range r.inline {
		if !anySensitive(in.Labels) {
			continue
		}
		for _, p := range itemPointers {
			if !strings.HasPrefix(in.Path, p.member+"[") || !strings.HasSuffix(in.Path, "]") {
				continue
			}
			if _, err := strconv.Atoi(in.Path[len(p.member)+1 : len(in.Path)-1]); err != nil {
				continue // inside the element, not the element
			}
			if in.Start < len(b) && b[in.Start] == '{' {
				note(p.member, in.Start, inheritable(in.Labels))
			}
		}
	}
	if bySeq == nil {
		return
	}
	as, _, ok, err := fjson.Lookup(b, root, "item")
	if err != nil || !ok || b[as] != '[' {
		return
	}
	item := elemRef{}
	for k, n := range segNames {
		if n == "item" {
			item.member = uint8(k + 1)
		}
	}
	idx := int32(0)
	_ = fjson.ArrayEach(b, as, func(s, _ int) error {
		defer func() { idx++ }()
		if b[s] != '{' {
			return nil
		}
		var ls Set
		for _, p := range itemPointers {
			m := bySeq[p.member]
			if m == nil {
				continue
			}
			ps, _, ok, err := fjson.Lookup(b, s, p.pointer)
			if err != nil || !ok || b[ps] != '[' {
				continue
			}
			_ = fjson.ArrayEach(b, ps, func(vs, ve int) error {
				ls = ls.Union(m[string(bytes.TrimSpace(b[vs:ve]))])
				return nil
			})
		}
		if len(ls) > 0 {
			r.addElem(elemRef{member: item.member, idx: idx}, ls)
		}
		return nil
	})
}

// segMember is the elemRef member of the segmentable member name.
func segMember(name string) uint8 {
	for k, n := range segNames {
		if n == name {
			return uint8(k + 1)
		}
	}
	return 0
}

// itemSequences returns the numbers (raw, trimmed) that member seq of the
// object at b[s] holds: one number, or an array of them.
func itemSequences(b []byte, s int, member string) []string {
	vs, ve, ok, err := fjson.Lookup(b, s, member)
	if err != nil || !ok {
		return nil
	}
	if b[vs] != '[' {
		return []string{string(bytes.TrimSpace(b[vs:ve]))}
	}
	var out []string
	_ = fjson.ArrayEach(b, vs, func(ps, pe int) error {
		out = append(out, string(bytes.TrimSpace(b[ps:pe])))
		return nil
	})
	return out
}

// eachResponseElem calls f for each object element of a ClaimResponse's
// item, addItem and error members with its elemRef and the Claim item
// numbers it names (item and error: itemSequence, one number; addItem:
// itemSequence, several).
func eachResponseElem(b []byte, f func(e elemRef, seqs []string)) {
	root := fjson.SkipSpace(b, 0)
	if root >= len(b) || b[root] != '{' {
		return
	}
	for _, name := range segmentable["ClaimResponse"] {
		as, _, ok, err := fjson.Lookup(b, root, name)
		if err != nil || !ok || b[as] != '[' {
			continue
		}
		m := segMember(name)
		idx := int32(0)
		_ = fjson.ArrayEach(b, as, func(s, _ int) error {
			defer func() { idx++ }()
			if b[s] == '{' {
				f(elemRef{member: m, idx: idx}, itemSequences(b, s, "itemSequence"))
			}
			return nil
		})
	}
}

// followResponsePointers gives the added items and errors of a
// ClaimResponse the labels of its own items they name (itemSequence): the
// error or added service on a withheld item is about it, as the proxy has
// it (followSequences cuts them with it).
func (r *Result) followResponsePointers(b []byte) {
	item := segMember("item")
	var bySeq map[string]Set
	eachResponseElem(b, func(e elemRef, seqs []string) {
		if e.member != item {
			return
		}
		for _, st := range r.elems {
			if st.ref == e && len(st.labels) > 0 && len(seqs) == 1 {
				if bySeq == nil {
					bySeq = map[string]Set{}
				}
				bySeq[seqs[0]] = bySeq[seqs[0]].Union(st.labels)
			}
		}
	})
	if bySeq == nil {
		return
	}
	eachResponseElem(b, func(e elemRef, seqs []string) {
		if e.member == item {
			return
		}
		var ls Set
		for _, q := range seqs {
			ls = ls.Union(bySeq[q])
		}
		if len(ls) > 0 {
			r.addElem(e, ls)
		}
	})
}

// oneOfAKind are, by member, the types a claim has one of: diagnosis
// types (ex-diagnosistype) principal and admitting, the procedure type
// (ex-procedure-type) primary. Cut, what is left has none, which tells
// what kind of element was withheld.
var oneOfAKind = [...]struct{ member, code string }{
	{"diagnosis", "principal"}, {"diagnosis", "admitting"}, {"procedure", "primary"},
}

// principalLabels returns, for a Claim or ExplanationOfBenefit, the
// sensitive labels of its diagnoses and procedures of a one-of-a-kind type
// (oneOfAKind, in any system) or of elements inside one: they go to the
// resource whole (settle). Cut alone, the diagnosis left the claim with
// no principal diagnosis, which a caller reads as "the principal one was
// withheld" (QA round 29); the claim is labelled whole, as one all of
// whose elements are sensitive, and a ClaimResponse answering it with it.
func (r *Result) principalLabels(b []byte) Set {
	if r.Type != "Claim" && r.Type != "ExplanationOfBenefit" || len(r.elems)+len(r.inline) == 0 {
		return nil
	}
	root := fjson.SkipSpace(b, 0)
	if root >= len(b) || b[root] != '{' {
		return nil
	}
	var out Set
	for _, member := range [...]string{"diagnosis", "procedure"} {
		as, _, ok, err := fjson.Lookup(b, root, member)
		if err != nil || !ok || b[as] != '[' {
			continue
		}
		ref := elemRef{member: segMember(member)}
		_ = fjson.ArrayEach(b, as, func(s, e int) error {
			defer func() { ref.idx++ }()
			if b[s] != '{' || !oneOfAKindType(b, s, member) {
				return nil
			}
			var ls Set
			for _, st := range r.elems {
				if st.ref == ref {
					ls = ls.Union(st.labels)
				}
			}
			for _, in := range r.inline {
				if in.Start >= s && in.End <= e {
					ls = ls.Union(in.Labels)
				}
			}
			if anySensitive(ls) {
				out = out.Union(inheritable(ls))
			}
			return nil
		})
	}
	return out
}

// oneOfAKindType reports whether the object at b[s], an element of
// member, has a type coding whose code is one of oneOfAKind for member
// (any case, escapes decoded). A type, or its coding, written as one
// object rather than an array of one (invalid FHIR JSON, but a server may
// store it, and other readers take it as the array's one element) is read
// so (eachObject): skipped, a claim's SUD principal diagnosis so typed was
// cut alone, and the claim left without a principal diagnosis told that
// one was withheld (QA round 34, area A).
func oneOfAKindType(b []byte, s int, member string) bool {
	ts, _, ok, err := fjson.Lookup(b, s, "type")
	if err != nil || !ok {
		return false
	}
	found := false
	eachObject(b, ts, func(cs, _ int) {
		ls, _, ok, err := fjson.Lookup(b, cs, "coding")
		if err != nil || !ok {
			return
		}
		eachObject(b, ls, func(ks, _ int) {
			vs, ve, ok, err := fjson.Lookup(b, ks, "code")
			if err != nil || !ok || b[vs] != '"' {
				return
			}
			code, _ := fjson.StringValue(b, vs, ve)
			code = strings.TrimSpace(code)
			for _, k := range oneOfAKind {
				if k.member == member && strings.EqualFold(code, k.code) {
					found = true
				}
			}
		})
	})
	return found
}

package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/fhirsearch"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// Element redaction. A resource whose elements carry inline security labels
// (labels.Result.Elements: the labeller's element labels of mixed resources,
// and inline labels the upstream set) is decided as a whole on its
// resource labels, and each element on its own class: the resource's
// patient and type with the resource labels and the element's labels (one
// confidentiality, the highest). An element whose class is not permitted is
// cut out of the bytes (an array left empty, or an object left without
// members, goes too), the resource gets the integrity label REDACTED, and
// its narrative (text) is dropped whole so that it cannot tell what was
// removed (narrative.go). Everything else of the resource leaves byte for
// byte as it came.
//
// Labels of what remains: meta.security keeps the resource labels
// (PROCESSINLINELABEL among them), plus REDACTED and the obligations of the
// resource's and its kept elements' classes; the labels of a removed
// element are written nowhere (they would tell what was withheld), and a
// kept element keeps its inline labels. A Bundle's high-water mark counts
// kept elements only. A receiver that ignores inline labels sees the
// resource labels only, as DS4P's PROCESSINLINELABEL obliges it not to do.

// RedactedLabel is the integrity label of a resource some of whose content
// the proxy removed (DS4P: v3-ObservationValue REDACTED).
var RedactedLabel = labels.Label{System: labels.SystemObservationValue, Code: "REDACTED"}

// applyRedactDecisions turns an item whose decision is redact (disclose
// without the elements labelled with any of Decision.Redact) into a
// disclosed item with those elements removed. When a label to redact is on
// the resource itself, no element can be cut to honour it and the item
// stays withheld. It runs after decide and decideContained.
func (r *run) applyRedactDecisions() {
	for _, it := range r.items {
		d := it.class.decision
		if d.Effect == policy.Mask {
			it.applyMaskDecision() // mask.go
			continue
		}
		if d.Effect != policy.Redact {
			continue
		}
		drop := parseLabels(d.Redact)
		if len(drop) == 0 || intersects(it.res.Labels, drop) {
			continue
		}
		var kept []labels.ElementLabel
		for _, e := range it.res.Elements {
			if intersects(e.Labels, drop) {
				it.redacted = append(it.redacted, e)
			} else {
				kept = append(kept, e)
			}
		}
		if len(it.redacted) == 0 {
			continue // nothing to cut: withheld
		}
		it.res.Elements = kept
		c := *it.class
		c.decision.Effect = policy.Permit
		it.class = &c
	}
}

// keptUnderRedact reports whether an element whose class was decided
// redact stays: the labels to redact are neither the element's nor the
// resource's.
func keptUnderRedact(d policy.Decision, res, elem labels.Set) bool {
	drop := parseLabels(d.Redact)
	return d.Effect == policy.Redact && len(drop) > 0 && !intersects(res, drop) && !intersects(elem, drop)
}

func intersects(a, b labels.Set) bool {
	for _, l := range b {
		if a.Has(l) {
			return true
		}
	}
	return false
}

// decideElements decides the element classes of the permitted items and
// sorts their elements into kept (it.res.Elements) and removed
// (it.redacted). It runs after decide and decideContained.
func (r *run) decideElements(ctx context.Context) error {
	now := time.Now().UnixNano()
	for _, it := range r.items {
		if len(it.res.Elements) == 0 || !it.class.decision.Permitted() {
			continue
		}
		var kept []labels.ElementLabel
		for _, e := range it.res.Elements {
			ls := highWater(it.res.Labels.Union(e.Labels))
			c, err := r.classOf(ctx, it.res.Patient, it.res.Type, ls, it.class.self, now)
			if err != nil {
				return err
			}
			if maskedUnder(c.decision, it.res.Labels, e.Labels) { // mask.go
				it.masked = append(it.masked, e)
				continue
			}
			if c.decision.Permitted() || keptUnderRedact(c.decision, it.res.Labels, e.Labels) {
				kept = append(kept, e)
				if c != it.class {
					a := it.withAside()
					a.extra = append(a.extra, c)
				}
				continue
			}
			it.redacted = append(it.redacted, e)
		}
		// An element inside a removed or masked one goes with it: its
		// inline labels are not written.
		it.res.Elements = kept[:0:0]
		for _, e := range kept {
			if !insideAny(e.Start, e.End, it.redacted) && !insideAny(e.Start, e.End, it.masked) {
				it.res.Elements = append(it.res.Elements, e)
			}
		}
	}
	for _, it := range r.items {
		if it.class.decision.Permitted() {
			if err := r.followSequences(ctx, it, now); err != nil {
				return err
			}
		}
		if it.class.decision.Permitted() {
			if err := r.cutContainedReferences(it); err != nil { // contained.go
				return err
			}
		}
	}
	return nil
}

func insideAny(start, end int, es []labels.ElementLabel) bool {
	for _, o := range es {
		if start >= o.Start && end <= o.End {
			return true
		}
	}
	return false
}

// classOf returns the class of (patient, typ, ls), evaluating it when this
// response has not met it yet; the key is the one decide uses. self is
// set when the caller is that patient reading their own record
// (selfAccess).
func (r *run) classOf(ctx context.Context, patient, typ string, ls labels.Set, self bool, now int64) (*class, error) {
	r.keyBuf = appendClassKey(r.keyBuf[:0], patient, typ, ls, "")
	if self {
		r.keyBuf = append(r.keyBuf, selfKey...)
	}
	if c, ok := r.classes[string(r.keyBuf)]; ok {
		return c, nil
	}
	key := string(r.keyBuf)
	c := &class{patient: patient, typ: typ, labels: ls, self: self}
	if err := r.evaluate(ctx, c, now); err != nil {
		return nil, err
	}
	r.classes[key] = c
	return c, nil
}

// withheldClass is the class of an item withheld for a reason beyond its
// own labels (a contained resource withheld, content that cannot be
// inspected): every check of the pipeline sees a deny.
func withheldClass(c *class, rule, msg string) *class {
	return &class{patient: c.patient, typ: c.typ, labels: c.labels, decision: policy.Decision{
		Effect:  policy.Deny,
		Reasons: []policy.Reason{{Rule: rule, Message: msg}},
	}}
}

// highWater keeps only the most restrictive confidentiality label of s.
func highWater(s labels.Set) labels.Set {
	code, ok := s.Confidentiality()
	if !ok {
		return s
	}
	n := 0
	for _, l := range s {
		if l.System == labels.SystemConfidentiality && labels.ConfidentialityRank(l.Code) >= 0 && l.Code != code {
			n++
		}
	}
	if n == 0 {
		return s
	}
	out := make(labels.Set, 0, len(s)-n)
	for _, l := range s {
		if l.System == labels.SystemConfidentiality && labels.ConfidentialityRank(l.Code) >= 0 && l.Code != code {
			continue
		}
		out = append(out, l)
	}
	return out
}

// itemEdits returns every edit of one disclosed item, offsets absolute and
// sorted: what is removed (redacted elements, uninspectable attachment
// data, the narrative of a redacted resource, the free text of an
// OperationOutcome), attachment URLs pointing at the proxy, and the labels
// (the item's, the obligations of its classes, REDACTED when anything was
// removed) written into meta.security of the item and of its contained
// resources.
func (r *run) itemEdits(it *item) ([]fjson.Edit, error) {
	if it.edited { // a streamed Bundle's second rendering (stream.go)
		return it.edits, nil
	}
	edits, err := r.makeItemEdits(it)
	if err != nil {
		return nil, err
	}
	it.edits, it.edited = edits, true
	return edits, nil
}

func (r *run) makeItemEdits(it *item) ([]fjson.Edit, error) {
	var targets []span
	for _, e := range it.redacted {
		targets = append(targets, span{it.start + e.Start, it.start + e.End})
	}
	twins, err := primitiveTwins(r.body, it.start, it.end, targets)
	if err != nil {
		return nil, rewriteFailure(err)
	}
	targets = append(targets, twins...)
	renumber, drop, err := r.sequenceEdits(it)
	if err != nil {
		return nil, err
	}
	targets = append(targets, drop...)
	totals, err := r.totalTargets(it)
	if err != nil {
		return nil, err
	}
	targets = append(targets, totals...)
	cut := len(it.masked) > 0 || len(it.redacted) > 0 && !it.silentCut()
	at, narratives, err := r.cutAttachmentTargets(it, cut)
	if err != nil {
		return nil, err
	}
	// what lies in a masked element is masked with it (mask.go)
	at, narratives = outsideMasked(it, at), outsideMasked(it, narratives)
	targets = append(targets, at...)
	removed := len(targets) > 0
	if cut { // like the narrative, the free text about the whole (narrative.go)
		st, err := r.summaryTargets(it)
		if err != nil {
			return nil, err
		}
		for _, sp := range outsideMasked(it, st) {
			if !holdsMasked(it, sp) { // a masked note is shown masked (mask.go)
				targets = append(targets, sp)
			}
		}
	}
	silent := len(at) == 0 && it.silentCut()        // enrolment.go
	masks, dropped, err := r.maskEdits(it, targets) // mask.go
	if err != nil {
		return nil, err
	}
	targets = append(targets, dropped...)
	if removed || len(it.masked) > 0 || it.narrativeWithheld {
		if s, ok, err := r.narrativeSpan(it); err != nil {
			return nil, err
		} else if ok && (it.narrativeWithheld || !silent || r.narrativeNames(it, s)) {
			targets = append(targets, s)
		}
	}
	targets = append(targets, narratives...)
	if silent {
		removed = false
	}
	if it.res.Type == "OperationOutcome" {
		ot, err := outcomeTargets(r.body, it.start)
		if err != nil {
			return nil, rewriteFailure(err)
		}
		targets = append(targets, ot...)
	}
	var edits []fjson.Edit
	if len(targets) > 0 {
		pe, err := pruneEdits(r.body, it.start, it.end, targets)
		if err != nil {
			return nil, rewriteFailure(err)
		}
		edits = append(edits, pe...)
	}
	edits = append(edits, masks...)
	edits = append(edits, renumber...)
	// a url cut or masked is not rewritten: the two edits would overlap
	skip := slices.Clone(targets)
	for _, e := range it.masked {
		skip = append(skip, span{it.start + e.Start, it.start + e.End})
	}
	for _, m := range masks { // a masked "_url"'s value among them
		skip = append(skip, span{m.Start, m.End})
	}
	urls, err := r.attachmentURLEdits(it, skip)
	if err != nil {
		return nil, err
	}
	edits = append(edits, urls...)
	for _, c := range it.contained {
		if insideAny(c.start-it.start, c.end-it.start, it.redacted) {
			continue // cut: its labels are written nowhere
		}
		ce, err := r.labelEdits(c.start, c.end, *c.res, c.class, nil, false, false)
		if err != nil {
			return nil, err
		}
		edits = append(edits, ce...)
	}
	res := *it.res
	if it.keptEnrolment() { // its inline labels are written: the IG's SHALL
		res.Labels = res.Labels.Union(labels.NewSet(labels.ProcessInline))
	}
	if slices.ContainsFunc(res.Elements, unlabellable) {
		// A kept meta.source (enrolment.go) is a primitive: no inline
		// label can be written on it, and it goes as it came.
		res.Elements = slices.DeleteFunc(slices.Clone(res.Elements), unlabellable)
	}
	le, err := r.labelEdits(it.start, it.end, res, it.class, it.extra(), removed, len(it.masked) > 0)
	if err != nil {
		return nil, err
	}
	if len(edits) == 0 {
		return le, nil // sorted by the labeller
	}
	edits = append(edits, le...)
	return sortEdits(edits)
}

// holdsMasked reports whether a masked element of it lies in sp.
func holdsMasked(it *item, sp span) bool {
	for _, e := range it.masked {
		if it.start+e.Start >= sp.start && it.start+e.End <= sp.end {
			return true
		}
	}
	return false
}

// outsideMasked keeps the spans of ss that lie in no masked element of it.
func outsideMasked(it *item, ss []span) []span {
	out := ss[:0]
	for _, sp := range ss {
		if !insideAny(sp.start-it.start, sp.end-it.start, it.masked) {
			out = append(out, sp)
		}
	}
	return out
}

// labelEdits writes res's labels, the obligations of its classes and, when
// redacted, REDACTED and, when masked, MASKED into the meta.security of
// the resource at r.body[start:end].
func (r *run) labelEdits(start, end int, res labels.Result, c *class, extra []*class, redacted, masked bool) ([]fjson.Edit, error) {
	add := c.obligationLabels()
	for _, x := range extra {
		add = add.Union(x.obligationLabels())
	}
	if redacted {
		add = add.Union(labels.NewSet(RedactedLabel))
	}
	if masked {
		add = add.Union(labels.NewSet(MaskedLabel))
	}
	if len(add) > 0 {
		if merged := highWater(res.Labels.Union(add)); !merged.Equal(res.Labels) {
			res.Labels, res.Changed = merged, true
		}
	}
	if !res.Changed {
		return nil, nil
	}
	edits, err := r.s.labeller.Edits(r.body[start:end], res)
	if err != nil {
		// The resource as the server sent it has no place for them (a
		// meta that is no object, an element's extension that is no
		// array): an answer the proxy cannot read, 502 as any other,
		// not a failure of its own (QA round 34, area C).
		return nil, fail(http.StatusBadGateway, "processing", "a resource from the FHIR server could not be labelled", err)
	}
	for i := range edits {
		edits[i].Start += start
		edits[i].End += start
	}
	return edits, nil
}

// sortEdits orders edits by start, an insertion before a deletion that
// starts at the same place, and fails when two overlap.
func sortEdits(edits []fjson.Edit) ([]fjson.Edit, error) {
	if len(edits) > 1 {
		slices.SortStableFunc(edits, compareEdits)
	}
	pos := -1
	for _, e := range edits {
		if e.Start < pos {
			return nil, fail(http.StatusInternalServerError, "exception", "the response could not be rewritten; it was withheld", errOverlap)
		}
		pos = e.End
	}
	return edits, nil
}

func compareEdits(a, b fjson.Edit) int {
	if a.Start != b.Start {
		return a.Start - b.Start
	}
	ai, bi := a.End == a.Start, b.End == b.Start
	switch {
	case ai && !bi:
		return -1
	case bi && !ai:
		return 1
	}
	return 0
}

// pruneEdits returns the edits that remove the values at targets (absolute
// spans inside the object b[start:end]) with the member or array slot that
// holds them. An object or array that loses every member goes too; the
// resource itself cannot go.
func pruneEdits(b []byte, start, end int, targets []span) ([]fjson.Edit, error) {
	sort.Slice(targets, func(i, j int) bool { return targets[i].start < targets[j].start })
	start, end = trim(b, start, end)
	edits, gone, err := pruneValue(b, start, end, targets)
	if err != nil {
		return nil, err
	}
	if gone {
		return nil, errPruneAll
	}
	return edits, nil
}

func pruneValue(b []byte, vs, ve int, targets []span) ([]fjson.Edit, bool, error) {
	inside := false
	for _, t := range targets {
		if t.start == vs && t.end == ve {
			return nil, true, nil
		}
		if t.start >= vs && t.end <= ve {
			inside = true
		}
	}
	if !inside {
		return nil, false, nil
	}
	var slots []member
	var edits []fjson.Edit
	var gone []int
	visit := func(ms, s, e int) error {
		child, g, err := pruneValue(b, s, e, targets)
		if err != nil {
			return err
		}
		if g {
			gone = append(gone, len(slots))
		} else {
			edits = append(edits, child...)
		}
		slots = append(slots, member{start: ms, vStart: s, end: e})
		return nil
	}
	var err error
	switch b[vs] {
	case '{':
		err = fjson.ObjectEach(b, vs, func(key []byte, s, e int) error {
			return visit(memberStart(b, key, s), s, e)
		})
	case '[':
		err = fjson.ArrayEach(b, vs, func(s, e int) error { return visit(s, s, e) })
	default:
		return nil, false, errPruneScalar
	}
	if err != nil {
		return nil, false, err
	}
	if len(gone) == len(slots) {
		return nil, true, nil
	}
	return append(edits, removeMembers(slots, gone)...), false, nil
}

func rewriteFailure(err error) error {
	return fail(http.StatusInternalServerError, "exception", "the response could not be rewritten; it was withheld", err)
}

// primitiveTwins returns the values that go with targets as FHIR JSON
// writes a primitive: its id and extensions, an inline label among them,
// in a member "_x" beside its value in "x" (for an array of primitives,
// element i of "_x" beside element i of "x"). A label on "_x" is the
// label of the value, so when a target is the value of "_x" (or one of
// its elements), the value of "x" (or that element of it) is a target
// too; otherwise cutting or masking the extension object would leave the
// value it labels in place. Only values that hold a target are walked.
func primitiveTwins(b []byte, start, end int, targets []span) ([]span, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	var out []span
	err := twinsIn(b, start, end, targets, &out, 0)
	return out, err
}

func isTarget(b []byte, s, e int, targets []span) bool {
	s, e = trim(b, s, e)
	for _, t := range targets {
		if ts, te := trim(b, t.start, t.end); ts == s && te == e {
			return true
		}
	}
	return false
}

func holdsTarget(s, e int, targets []span) bool {
	for _, t := range targets {
		if t.start >= s && t.end <= e && (t.start > s || t.end < e) {
			return true
		}
	}
	return false
}

func twinsIn(b []byte, vs, ve int, targets []span, out *[]span, depth int) error {
	if depth > maxTwinDepth {
		return errPruneScalar // deeper than any FHIR resource: withheld
	}
	vs, ve = trim(b, vs, ve)
	switch b[vs] {
	case '[':
		return fjson.ArrayEach(b, vs, func(s, e int) error {
			if holdsTarget(s, e, targets) {
				return twinsIn(b, s, e, targets, out, depth+1)
			}
			return nil
		})
	case '{':
	default:
		return nil
	}
	type kv struct {
		name string
		s, e int
	}
	var ms []kv
	if err := fjson.ObjectEach(b, vs, func(key []byte, s, e int) error {
		ms = append(ms, kv{keyName(key), s, e})
		return nil
	}); err != nil {
		return err
	}
	for _, m := range ms {
		if holdsTarget(m.s, m.e, targets) {
			if err := twinsIn(b, m.s, m.e, targets, out, depth+1); err != nil {
				return err
			}
		}
		if len(m.name) < 2 || m.name[0] != '_' {
			continue
		}
		whole := isTarget(b, m.s, m.e, targets)
		var idx []int // elements of an array "_x" that are targets
		if !whole && b[m.s] == '[' {
			i := 0
			if err := fjson.ArrayEach(b, m.s, func(s, e int) error {
				if isTarget(b, s, e, targets) {
					idx = append(idx, i)
				}
				i++
				return nil
			}); err != nil {
				return err
			}
		}
		if !whole && len(idx) == 0 {
			continue
		}
		for _, v := range ms {
			if v.name != m.name[1:] {
				continue
			}
			if whole || b[v.s] != '[' {
				// the whole value goes (a value that is no array beside
				// an array of extensions is not FHIR: fail closed)
				*out = append(*out, span{v.s, v.e})
				continue
			}
			i, k := 0, 0
			if err := fjson.ArrayEach(b, v.s, func(s, e int) error {
				for k < len(idx) && idx[k] < i {
					k++
				}
				if k < len(idx) && idx[k] == i {
					*out = append(*out, span{s, e})
				}
				i++
				return nil
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxTwinDepth bounds primitiveTwins' walk.
const maxTwinDepth = 256

// Searches on cut elements. The server decides which resources match a
// search, and in which order, on the stored resource: a match whose
// element the proxy cut (redacted, masked, a contained resource's link)
// is a match because of what was cut when the search filtered on it
// (Observation?value-quantity=gt100 with the value cut: returned only when
// the withheld value is above 100), tested it with :missing, or sorted on
// it (its place tells the value). Which elements are cut depends on the
// data, so the request side cannot refuse these searches; here, a match of
// the response's own searchset cut at a top-level member that a parameter
// of the query reads (internal/fhirsearch: the members of its FHIRPath
// expression, for the match's type) is withheld as a withheld match is:
// the total is lowered, the ledger records it withheld
// (search-on-cut-element). A POST _search is read as its query and form
// merged, a batch or transaction entry's search as its own url query
// (batchEntryCutQueries). Fail closed: a parameter the table does not
// know (custom, vendor), a query the proxy does not hold (an operation
// but $everything, $lastn and Patient/$match, cutsearch_match.go; a page
// link naming a search the upstream remembers: cutQueryHandles) read
// every member. A compartment search and $everything on an instance
// select on the references to the compartment's resource, so those count
// as read. Parameters that select nothing (cutQuerySkipped) read none.
// Nothing is done unless something was cut.

// cutQuerySkipped are the parameters that select no resource on its
// content: paging, formats, what goes in each resource, includes (decided
// apart: an include through a cut link is orphaned, includes.go).
var cutQuerySkipped = map[string]bool{
	"_count": true, "_include": true, "_revinclude": true, "_summary": true, "_elements": true,
	"_total": true, "_format": true, "_pretty": true, "_contained": true, "_containedType": true,
	"_type": true, "_getpagesoffset": true, "_offset": true, "_page": true, "_bundletype": true,
}

// cutQueryHandles are the upstream's paging handles that stand for a search
// it remembers (HAPI's _getpages, cursors), found only in its page links
// (the request side refuses them): the search's own parameters need not
// be in such a link, so a page that has one counts every member as read.
// A match of value-quantity=gt100 cut at its value was disclosed on
// HAPI's second page, whose link reads _getpages=<id>&_getpagesoffset=20.
var cutQueryHandles = map[string]bool{
	"_getpages": true, "_pageId": true, "_page_token": true, "_pageToken": true, "_cursor": true,
}

// cutQuery is what the query of a search reads, for withholdCutMatches.
type cutQuery struct {
	all   bool     // every member: the query is not known, or reads what cannot be told
	codes []string // filter and _sort parameters, modifiers removed
	// members read whatever the type (the implicit ones: $lastn's max
	// reads code and the clinical date)
	members []string
	// compartment: the type of a compartment search's (or $everything's)
	// resource, whose references select the matches
	compartment string
	// compartmentID: a compartment search's resource's id
	// (Practitioner/<id>/Patient), for enrolmentExplained
	compartmentID string
	// vals are the query's parameters, for enrolmentExplained
	// (cutsearch_enrolment.go)
	vals url.Values
	// everything: the Type/id of an instance $everything's resource,
	// which the server answers whatever the parameters select
	everything string
	// match: the Patient a Patient/$match gives (JSON), whose members
	// the server scores the stored Patients on (cutsearch_match.go)
	match []byte
}

func (r *run) cutQuery() cutQuery {
	if r.ex.origin != "" { // a handle's page: what the search that began it reads (origin.go)
		req, vals, ok := parseOrigin(r.ex.origin)
		if !ok {
			return cutQuery{all: true}
		}
		return cutQueryOf(req, vals)
	}
	req := r.ex.req
	if req.Interaction == Operation && req.Operation == "$match" {
		return r.matchCutQuery() // cutsearch_match.go
	}
	if strings.HasSuffix(req.Path, "_search") && r.ex.searchForm == nil {
		return cutQuery{all: true} // its form is not known here
	}
	vals, ok := r.searchQuery()
	if !ok {
		return cutQuery{all: true}
	}
	return cutQueryOf(req, vals)
}

// cutQueryOf is what a search req (or $everything, $lastn) by vals reads.
func cutQueryOf(req fhirRequest, vals url.Values) cutQuery {
	var q cutQuery
	switch {
	case req.Interaction == Search:
		if req.ID != "" {
			q.compartment, _, _ = strings.Cut(req.Path, "/")
			q.compartmentID = req.ID
		}
	case req.Interaction == Operation && (req.Operation == "$everything" || req.Operation == "$lastn"):
		if req.ID != "" {
			q.compartment = req.Type
			if req.Operation == "$everything" {
				q.everything = req.Type + "/" + req.ID
			}
		}
	default:
		return cutQuery{all: true}
	}
	q.vals = vals
	for name, vs := range vals {
		code, _, _ := strings.Cut(name, ":")
		switch {
		case cutQueryHandles[code]:
			return cutQuery{all: true}
		case cutQuerySkipped[code]:
		case code == "_sort":
			for _, v := range vs {
				for _, c := range strings.Split(v, ",") {
					if c = strings.TrimPrefix(strings.TrimSpace(c), "-"); c != "" {
						q.codes = append(q.codes, c)
					}
				}
			}
		case req.Operation == "$lastn" && code == "max":
			q.members = append(q.members, "code", "effective")
		case req.Operation == "$everything" && code == "_since":
			q.members = append(q.members, "meta")
		default:
			q.codes = append(q.codes, code)
		}
	}
	return q
}

// searchQuery returns the parameters the upstream searched by: the
// request's query, with a POST _search's form merged in (the server
// merges them); false when they cannot be read, or the form is not known.
func (r *run) searchQuery() (url.Values, bool) {
	if r.ex.origin != "" { // a handle's page (origin.go)
		_, vals, ok := parseOrigin(r.ex.origin)
		return vals, ok
	}
	_, raw, _ := strings.Cut(r.ex.query, "?")
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false
	}
	if strings.HasSuffix(r.ex.req.Path, "_search") {
		if r.ex.searchForm == nil {
			return nil, false
		}
		for k, vs := range r.ex.searchForm {
			vals[k] = append(vals[k], vs...)
		}
	}
	return vals, true
}

// reads reports whether the query reads a member of keys (top-level JSON
// member names) of a resource of type typ.
func (q *cutQuery) reads(typ string, keys []string) bool {
	if q.all {
		return true
	}
	if q.match != nil {
		return typ != "Patient" || matchGivesAny(q.match, keys) // cutsearch_match.go
	}
	for _, k := range keys {
		if fhirsearch.MembersReadKey(q.members, k) {
			return true
		}
	}
	if q.compartment != "" {
		ms, any := fhirsearch.ReferenceMembers(typ, q.compartment)
		if any {
			return true
		}
		for _, k := range keys {
			if fhirsearch.MembersReadKey(ms, k) {
				return true
			}
		}
	}
	for _, c := range q.codes {
		p, ok := fhirsearch.Lookup(typ, c)
		if !ok {
			return true // unknown: every member
		}
		for _, k := range keys {
			if p.ReadsKey(k) {
				return true
			}
		}
	}
	return false
}

// isCut reports whether an element of it was removed or masked.
func (it *item) isCut() bool { return len(it.redacted)+len(it.masked) > 0 }

// cutAt reports whether the value r.body[s:e] (absolute) lies in an element
// removed from it or masked.
func (it *item) cutAt(s, e int) bool {
	return insideAny(s-it.start, e-it.start, it.redacted) || insideAny(s-it.start, e-it.start, it.masked)
}

func (r *run) anyCut() bool {
	for _, it := range r.items {
		if it.isCut() && it.class.decision.Permitted() {
			return true
		}
	}
	return false
}

// withholdCutMatches withholds the matches the search read on a cut
// element (above), then the includes that only a withheld match or a cut
// link brought (includes.go). It runs after decideElements, when every cut
// is known.
func (r *run) withholdCutMatches(root *bundleNode) error {
	if root == nil || !r.anyCut() {
		return nil
	}
	q := r.cutQuery()
	entries := r.batchEntryCutQueries(root)
	var visit func(b *bundleNode) error
	visit = func(b *bundleNode) error {
		for _, e := range b.entries {
			if e.nested != nil {
				if err := visit(e.nested); err != nil {
					return err
				}
			}
		}
		if b.typ != "searchset" {
			return nil
		}
		// A searchset inside another Bundle answers a query the proxy
		// does not hold, every member counting, unless it is a batch
		// entry's search whose query is known (batchEntryCutQueries).
		own := b == root && b.searchset
		eq := entries[b]
		for _, e := range b.entries {
			it := e.item
			if it == nil || !it.isCut() || !it.class.decision.Permitted() || r.entryParts(e).notMatch {
				continue
			}
			keys, err := r.cutKeys(it)
			if err != nil {
				return rewriteFailure(err)
			}
			var reads bool
			switch {
			case own:
				reads = q.reads(it.res.Type, keys)
			case eq != nil:
				reads = eq.reads(it.res.Type, keys)
			default:
				reads = true
			}
			if reads && it.silentCut() {
				// A Patient's enrolment is cut silently: withholding a
				// match that visible elements explain would tell the
				// cut (cutsearch_enrolment.go).
				switch {
				case own:
					reads = !r.enrolmentExplained(it, &q, keys)
				case eq != nil && (eq.typ == "" || eq.typ == it.res.Type):
					reads = !r.enrolmentExplained(it, &eq.q, keys)
				}
			}
			if reads {
				it.class = withheldClass(it.class, "search-on-cut-element",
					"a match the search selected or sorted on an element cut from it")
			}
		}
		return nil
	}
	if err := visit(root); err != nil {
		return err
	}
	return r.orphanIncludes(root, entries)
}

// entryCutQuery is what the search of one batch or transaction entry reads.
type entryCutQuery struct {
	q cutQuery
	// typ: the type the entry searched (a type-level search, $lastn): a
	// match of another type answers something else, every member counting.
	typ string
	// fwd, rev: the members its _include and _revinclude follow, by source
	// type (includeLinksOf), for its searchset's includes (includes.go)
	fwd, rev map[string]*linkMembers
}

func (e *entryCutQuery) reads(typ string, keys []string) bool {
	return e.typ != "" && typ != e.typ || e.q.reads(typ, keys)
}

// batchEntryCutQueries maps each searchset of a batch or transaction
// response that answers a GET search entry of the request to what that
// entry's own url query reads: a cut match of Observation?code=x is not
// withheld for a cut it was not selected on (every member of every batch
// search counted before). The response's entries answer the request's in
// order (FHIR R4 3.1.0.11.3); when the two differ in number, or the
// request cannot be read again, nothing is mapped. An entry is left out,
// its matches counting every member as before, when it is not a GET
// search of a type or the system (a POST _search, an operation but
// $lastn), its url cannot be read, or an _include or _revinclude of it
// names every source (*), which the entry's includes cannot be judged by
// (includes.go). Its includes are judged by the members its own _include
// and _revinclude follow, as the response's own searchset's are.
func (r *run) batchEntryCutQueries(root *bundleNode) map[*bundleNode]*entryCutQuery {
	if root.typ != "batch-response" && root.typ != "transaction-response" {
		return nil
	}
	reqs, ok := batchEntryRequests(r.ex)
	if !ok || len(reqs) != len(root.entries) {
		return nil
	}
	var out map[*bundleNode]*entryCutQuery
	for i, e := range root.entries {
		if e.nested == nil || e.nested.typ != "searchset" {
			continue
		}
		eq, ok := entryCutQueryOf(reqs[i].Method, reqs[i].URL)
		if !ok {
			continue
		}
		if out == nil {
			out = map[*bundleNode]*entryCutQuery{}
		}
		out[e.nested] = eq
	}
	return out
}

// entryCutQueryOf reads one entry's request (see batchEntryCutQueries).
func entryCutQueryOf(method, rawURL string) (*entryCutQuery, bool) {
	path, raw, _ := strings.Cut(rawURL, "?")
	if method != http.MethodGet || strings.Contains(path, "://") || strings.IndexByte(rawURL, '#') >= 0 {
		return nil, false
	}
	req, err := parseFHIRPath(method, path)
	if err != nil || strings.HasSuffix(req.Path, "_search") {
		return nil, false
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, false
	}
	q := cutQueryOf(req, vals)
	if q.all {
		return nil, false
	}
	fwd, rev := includeLinksOf(vals)
	if fwd == nil {
		return nil, false
	}
	eq := &entryCutQuery{q: q, fwd: fwd, rev: rev}
	if req.ID == "" && (req.Interaction == Search || req.Operation == "$lastn") {
		eq.typ = req.Type
	}
	return eq, true
}

// batchEntryRequest is the request of one batch or transaction entry.
type batchEntryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

// batchEntryRequests reads the entries' requests of the batch or
// transaction ex answers, as forwarded (exchange.batchRequest), read as
// the request side read them (writeguard.go guardBatch); false when they
// are not known.
func batchEntryRequests(ex *exchange) ([]batchEntryRequest, bool) {
	req := ex.batchRequest
	if req == nil || req.GetBody == nil {
		return nil, false
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	var b struct {
		Entry []struct {
			Request batchEntryRequest `json:"request"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(rc).Decode(&b); err != nil {
		return nil, false
	}
	out := make([]batchEntryRequest, len(b.Entry))
	for i, e := range b.Entry {
		out[i] = e.Request
	}
	return out, true
}

// batchOnlyReads reports whether every entry of the batch ex answers is a
// GET (a read, a search, or an operation, which FHIR lets change nothing
// when invoked by GET); false when the entries are not known.
func batchOnlyReads(ex *exchange) bool {
	entries, ok := batchEntryRequests(ex)
	if !ok || len(entries) == 0 {
		return false
	}
	for _, e := range entries {
		if e.Method != http.MethodGet {
			return false
		}
	}
	return true
}

// cutKeys names the top-level members of it that hold a removed or masked
// element, or that go with a cut: its totals (totalTargets) and its free
// text about the whole (summaryTargets). The server selected on them as
// stored: List?title=opioid answered the List whose title, removed with
// its SUD entry, named it.
func (r *run) cutKeys(it *item) ([]string, error) {
	var keys []string
	gone, err := r.totalTargets(it)
	if err != nil {
		return nil, err
	}
	if len(it.masked) > 0 || len(it.redacted) > 0 && !it.silentCut() {
		st, err := r.summaryTargets(it)
		if err != nil {
			return nil, err
		}
		gone = append(gone, st...)
	}
	err = fjson.ObjectEach(r.body, it.start, func(key []byte, ks, ke int) error {
		for _, sp := range gone {
			if sp.start < ke && sp.end > ks {
				keys = append(keys, keyName(key))
				return nil
			}
		}
		for _, es := range [2][]labels.ElementLabel{it.redacted, it.masked} {
			for _, e := range es {
				if s, end := it.start+e.Start, it.start+e.End; s < ke && end > ks {
					keys = append(keys, keyName(key))
					return nil
				}
			}
		}
		return nil
	})
	return keys, err
}

// Numbering left by a cut. Claim and ExplanationOfBenefit number their
// careTeam, supportingInfo, diagnosis, procedure and item elements
// (sequence, processNote by number) and point at them from their items
// (careTeamSequence, informationSequence, diagnosisSequence,
// procedureSequence, noteNumber) and an EOB's addItem (itemSequence,
// noteNumber); an Encounter ranks its diagnoses (rank). Cut as they came,
// the elements left told what was cut: diagnoses numbered 2 and 3 (the
// first withheld), ranks 2 and 3 (the principal diagnosis withheld), an
// item still pointing at diagnosis 1 and billed for it, and a total above
// the sum of the items left by the amount of a withheld one. So
// (followSequences) an element pointing at a cut one goes with it (an item
// billed for a withheld diagnosis is about it; a note a cut item points at
// may describe it), and a resource whose numbering cannot be read while
// something numbered was cut (a sequence missing, not a whole number, or
// given twice) is withheld, and so is a Claim or EOB left with no
// diagnosis, procedure or item; then (sequenceEdits) the careTeam,
// supportingInfo, diagnosis, procedure and processNote elements left are
// numbered 1, 2, ... in their order (items keep their numbers: another
// resource names them, seqList.keep), ranks keep their order without gaps,
// the pointers follow, a pointer at a cut note goes, and when an item was
// cut or masked the totals go too (totalTargets): that something was cut
// REDACTED says, how much the totals would. A masked element keeps its
// place and counts as kept for what points at it; the numbers inside it
// are the mask's (it removes them), so none is rewritten there, and one
// whose own number the mask removed is numbered as a cut one (QA round
// 29): the elements left are numbered without it and pointers at it go,
// also when nothing was cut (an Encounter's masked diagnosis likewise
// loses its rank and the ranks left close up).

// seqList is one numbered member: its name, the member holding each
// element's number, the pointers at it from an item or addItem, and for
// processNote the pointer's name.
type seqList struct {
	name, number, pointer string
	// keep: the numbers are not rewritten (a gap stays), since other
	// resources point at them: a ClaimResponse's item.itemSequence names
	// the items of its Claim, and renumbered, the adjudication of the cut
	// item would be read as that of the item shown under its number.
	keep bool
}

var seqLists = map[string][]seqList{
	"Claim": {
		{"careTeam", "sequence", "careTeamSequence", false}, {"supportingInfo", "sequence", "informationSequence", false},
		{"diagnosis", "sequence", "diagnosisSequence", false}, {"procedure", "sequence", "procedureSequence", false},
		{"item", "sequence", "", true},
	},
	"ExplanationOfBenefit": {
		{"careTeam", "sequence", "careTeamSequence", false}, {"supportingInfo", "sequence", "informationSequence", false},
		{"diagnosis", "sequence", "diagnosisSequence", false}, {"procedure", "sequence", "procedureSequence", false},
		{"item", "sequence", "", true}, {"processNote", "number", "noteNumber", false},
	},
	// A ClaimResponse's items are its Claim's, by their numbers
	// (itemSequence, kept); its addItem and error name them, its items and
	// added items its notes (QA round 29).
	"ClaimResponse": {
		{"item", "itemSequence", "", true}, {"processNote", "number", "noteNumber", false},
	},
}

// seqPointers reads the array of numbers at b[vs:] (an item's
// diagnosisSequence ...): errSeqUnreadable when it is not one.
func seqPointers(b []byte, vs int) ([]seqPointer, error) {
	if b[vs] != '[' {
		return nil, errSeqUnreadable
	}
	var ps []seqPointer
	err := fjson.ArrayEach(b, vs, func(ps0, pe int) error {
		n, ok := seqNumber(b, ps0, pe)
		if !ok {
			return errSeqUnreadable
		}
		ps = append(ps, seqPointer{ps0, pe, n})
		return nil
	})
	return ps, err
}

// seqElem is one element of a numbered member.
type seqElem struct {
	s, e   int // the element (absolute)
	ns, ne int // its number's value; ns < 0: none
	n      int // the number
	cut    bool
	labels labels.Set // when cut: its labels
	// unnumbered: its number lies in a masked element, which removes it
	// (mask.go): it is numbered as a cut one is, its place kept.
	unnumbered bool
	pointersOf map[string][]seqPointer
}

// seqPointer is one number of a pointer array (absolute span).
type seqPointer struct {
	s, e, n int
}

// seqView is what followSequences and sequenceEdits read of a resource.
type seqView struct {
	lists map[string][]seqElem // by member name
	// addItem are an EOB's or ClaimResponse's added items: pointers at
	// item and processNote.
	addItem []seqElem
	// errors are a ClaimResponse's errors: a pointer at an item
	// (itemSequence, one number).
	errors []seqElem
}

var errSeqUnreadable = errors.New("proxy: a numbering that cannot be read")

// readSeqView reads the numbered members of it; ok is false when it has
// none to read.
func (r *run) readSeqView(it *item) (*seqView, bool, error) {
	lists := seqLists[it.res.Type]
	if lists == nil || len(it.redacted)+len(it.masked) == 0 {
		return nil, false, nil
	}
	v := &seqView{lists: map[string][]seqElem{}}
	pointerNames := map[string]bool{}
	for _, l := range lists {
		if l.pointer != "" {
			pointerNames[l.pointer] = true
		}
	}
	pointerNames["itemSequence"] = true
	read := func(member, number string) ([]seqElem, error) {
		one := member == "error" // its itemSequence is one number, not an array
		as, _, ok, err := fjson.Lookup(r.body, it.start, member)
		if err != nil || !ok {
			return nil, err
		}
		if r.body[as] != '[' {
			return nil, errSeqUnreadable
		}
		var out []seqElem
		err = fjson.ArrayEach(r.body, as, func(s, e int) error {
			if r.body[s] != '{' {
				return errSeqUnreadable
			}
			el := seqElem{s: s, e: e, ns: -1}
			el.cut = insideAny(s-it.start, e-it.start, it.redacted)
			if el.cut {
				el.labels = it.cutLabels(s, e)
			}
			err := fjson.ObjectEach(r.body, s, func(key []byte, vs, ve int) error {
				k := keyName(key)
				switch {
				case number != "" && k == number:
					if el.ns >= 0 {
						return errSeqUnreadable
					}
					n, ok := seqNumber(r.body, vs, ve)
					if !ok {
						return errSeqUnreadable
					}
					el.ns, el.ne, el.n = vs, ve, n
					el.unnumbered = !el.cut && insideAny(vs-it.start, ve-it.start, it.masked)
				case pointerNames[k]:
					var ps []seqPointer
					if one && k == "itemSequence" {
						n, ok := seqNumber(r.body, vs, ve)
						if !ok {
							return errSeqUnreadable
						}
						ps = []seqPointer{{vs, ve, n}}
					} else {
						var err error
						if ps, err = seqPointers(r.body, vs); err != nil {
							return err
						}
					}
					if el.pointersOf == nil {
						el.pointersOf = map[string][]seqPointer{}
					}
					if _, dup := el.pointersOf[k]; dup {
						return errSeqUnreadable
					}
					el.pointersOf[k] = ps
				}
				return nil
			})
			if err == nil && (member == "item" || member == "addItem") {
				err = nestedNotes(r.body, s, &el)
			}
			out = append(out, el)
			return err
		})
		if err != nil {
			return nil, err
		}
		if number != "" {
			seen := map[int]bool{}
			for _, el := range out {
				if el.ns < 0 && member == "processNote" {
					continue // its number is optional (0..1): a note nothing can name
				}
				if el.ns < 0 || seen[el.n] {
					return nil, errSeqUnreadable
				}
				seen[el.n] = true
			}
		}
		return out, nil
	}
	for _, l := range lists {
		els, err := read(l.name, l.number)
		if err != nil {
			return nil, false, err
		}
		v.lists[l.name] = els
	}
	if it.res.Type == "ExplanationOfBenefit" || it.res.Type == "ClaimResponse" {
		els, err := read("addItem", "")
		if err != nil {
			return nil, false, err
		}
		v.addItem = els
	}
	if it.res.Type == "ClaimResponse" {
		els, err := read("error", "")
		if err != nil {
			return nil, false, err
		}
		v.errors = els
	}
	return v, true, nil
}

// nestedNotes adds to el (an item or addItem at b[s]) the note numbers
// its details and their subDetails point at (detail[].noteNumber,
// detail[].subDetail[].noteNumber): a note only a detail of a kept item
// names is kept, and its pointers follow its new number (QA round 29:
// they stayed at the old number, naming another note or none).
func nestedNotes(b []byte, s int, el *seqElem) error {
	var ps []seqPointer
	var walk func(obj int, depth int) error
	walk = func(obj int, depth int) error {
		if depth > 0 {
			if vs, _, ok, err := fjson.Lookup(b, obj, "noteNumber"); err != nil {
				return err
			} else if ok {
				more, err := seqPointers(b, vs)
				if err != nil {
					return err
				}
				ps = append(ps, more...)
			}
		}
		if depth == 2 {
			return nil
		}
		sub := "detail"
		if depth == 1 {
			sub = "subDetail"
		}
		as, _, ok, err := fjson.Lookup(b, obj, sub)
		if err != nil || !ok {
			return err
		}
		if b[as] != '[' {
			return errSeqUnreadable
		}
		return fjson.ArrayEach(b, as, func(ds, _ int) error {
			if b[ds] != '{' {
				return errSeqUnreadable
			}
			return walk(ds, depth+1)
		})
	}
	if err := walk(s, 0); err != nil || len(ps) == 0 {
		return err
	}
	if el.pointersOf == nil {
		el.pointersOf = map[string][]seqPointer{}
	}
	el.pointersOf["noteNumber"] = append(el.pointersOf["noteNumber"], ps...)
	return nil
}

// seqNumber reads a whole number of at most 9 digits.
func seqNumber(b []byte, s, e int) (int, bool) {
	s, e = trim(b, s, e)
	if e-s < 1 || e-s > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b[s:e] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// cutLabels are the labels of the removed elements holding r.body[s:e].
func (it *item) cutLabels(s, e int) labels.Set {
	var out labels.Set
	for _, c := range it.redacted {
		if s-it.start >= c.Start && e-it.start <= c.End {
			out = out.Union(c.Labels)
		}
	}
	return out
}

// followSequences cuts what points at a cut element of it, and withholds
// it when its numbering cannot be read while something numbered was cut
// (above). It runs at the end of decideElements.
func (r *run) followSequences(ctx context.Context, it *item, now int64) error {
	if it.res.Type == "Encounter" {
		return r.followRanks(it)
	}
	v, ok, err := r.readSeqView(it)
	if err != nil {
		if errors.Is(err, errSeqUnreadable) && r.anyNumberedCut(it) {
			it.class = withheldClass(it.class, "unreadable-numbering",
				"an element was cut from a resource whose numbering cannot be read")
			return nil
		}
		if errors.Is(err, errSeqUnreadable) {
			return nil
		}
		return rewriteFailure(err)
	}
	if !ok {
		return nil
	}
	cutNumbers := func(member string) map[int]labels.Set {
		m := map[int]labels.Set{}
		for _, el := range v.lists[member] {
			if el.cut {
				m[el.n] = el.labels
			}
		}
		return m
	}
	before := len(it.redacted)
	cut := func(el *seqElem, ls labels.Set, path string) {
		el.cut, el.labels = true, ls
		it.redacted = append(it.redacted, labels.ElementLabel{Path: path,
			Start: el.s - it.start, End: el.e - it.start, Labels: ls})
	}
	// items pointing at a cut diagnosis, procedure, careTeam, supportingInfo
	items := v.lists["item"]
	for i := range items {
		if items[i].cut {
			continue
		}
		var ls labels.Set
		hit := false
		for _, l := range seqLists[it.res.Type] {
			if l.pointer == "" || l.name == "processNote" {
				continue
			}
			gone := cutNumbers(l.name)
			for _, p := range items[i].pointersOf[l.pointer] {
				if x, ok := gone[p.n]; ok {
					hit, ls = true, ls.Union(x)
				}
			}
		}
		if hit {
			cut(&items[i], ls, "item["+strconv.Itoa(i)+"]")
		}
	}
	// an EOB's or ClaimResponse's addItem, and a ClaimResponse's error,
	// pointing at a cut item
	gone := cutNumbers("item")
	for _, m := range [2]struct {
		els  []seqElem
		name string
	}{{v.addItem, "addItem"}, {v.errors, "error"}} {
		for i := range m.els {
			if m.els[i].cut {
				continue
			}
			var ls labels.Set
			hit := false
			for _, p := range m.els[i].pointersOf["itemSequence"] {
				if x, ok := gone[p.n]; ok {
					hit, ls = true, ls.Union(x)
				}
			}
			if hit {
				cut(&m.els[i], ls, m.name+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	// The notes a cut item or addItem points at, and, when one was cut,
	// the notes no kept one points at: they explain the adjudication in
	// words, of the claim as a whole or of the cut item.
	notes := v.lists["processNote"]
	var cutLabels labels.Set
	anyCut := false
	keptNotes := map[int]bool{}
	for _, src := range [2][]seqElem{items, v.addItem} {
		for _, el := range src {
			if !el.cut {
				for _, p := range el.pointersOf["noteNumber"] {
					keptNotes[p.n] = true
				}
				continue
			}
			anyCut, cutLabels = true, cutLabels.Union(el.labels)
			for _, p := range el.pointersOf["noteNumber"] {
				for k := range notes {
					if notes[k].ns >= 0 && notes[k].n == p.n && !notes[k].cut {
						cut(&notes[k], el.labels, "processNote["+strconv.Itoa(k)+"]")
					}
				}
			}
		}
	}
	for k := range notes {
		if anyCut && !notes[k].cut && (notes[k].ns < 0 || !keptNotes[notes[k].n]) {
			cut(&notes[k], cutLabels, "processNote["+strconv.Itoa(k)+"]")
		}
	}
	if len(it.redacted) == before {
		return nil
	}
	// Nothing left of its diagnoses, procedures and items: what is left
	// tells the story, as the labeller's settle has it (a claim that is
	// all SUD is labelled whole).
	left := false
	for _, name := range []string{"diagnosis", "procedure", "item"} {
		for _, el := range v.lists[name] {
			left = left || !el.cut
		}
	}
	if it.res.Type == "ClaimResponse" {
		for _, el := range v.addItem { // a ClaimResponse's own added services
			left = left || !el.cut
		}
	}
	if !left {
		it.class = withheldClass(it.class, "nothing-left",
			"every diagnosis, procedure and item of the resource was cut")
		return nil
	}
	// An element inside one cut here goes with it, and the obligations of
	// its class with it: only the kept elements' classes remain.
	var kept []labels.ElementLabel
	var extra []*class
	for _, e := range it.res.Elements {
		if insideAny(e.Start, e.End, it.redacted) {
			continue
		}
		kept = append(kept, e)
		c, err := r.classOf(ctx, it.res.Patient, it.res.Type, highWater(it.res.Labels.Union(e.Labels)), it.class.self, now)
		if err != nil {
			return err
		}
		if c != it.class && !slices.Contains(extra, c) {
			extra = append(extra, c)
		}
	}
	it.res.Elements = kept
	if len(extra) > 0 || it.aside != nil {
		it.withAside().extra = extra
	}
	return nil
}

// anyNumberedCut reports whether a cut of it removed a whole element of a
// numbered member.
func (r *run) anyNumberedCut(it *item) bool {
	for _, l := range seqLists[it.res.Type] {
		as, _, ok, err := fjson.Lookup(r.body, it.start, l.name)
		if err != nil || !ok || r.body[as] != '[' {
			if err != nil {
				return true
			}
			continue
		}
		hit := false
		_ = fjson.ArrayEach(r.body, as, func(s, e int) error {
			if insideAny(s-it.start, e-it.start, it.redacted) {
				hit = true
			}
			return nil
		})
		if hit {
			return true
		}
	}
	return false
}

// followRanks withholds an Encounter whose diagnosis ranks cannot be read
// while a diagnosis was cut.
func (r *run) followRanks(it *item) error {
	_, _, err := r.rankEdits(it)
	if errors.Is(err, errSeqUnreadable) {
		it.class = withheldClass(it.class, "unreadable-numbering",
			"an element was cut from a resource whose numbering cannot be read")
		return nil
	}
	return err
}

// rankEdits renumbers the ranks of an Encounter's diagnoses left after a
// cut: the same order, no gaps (1, 2, ...; equal ranks stay equal).
func (r *run) rankEdits(it *item) ([]fjson.Edit, bool, error) {
	if it.res.Type != "Encounter" || len(it.redacted)+len(it.masked) == 0 {
		return nil, false, nil
	}
	as, _, ok, err := fjson.Lookup(r.body, it.start, "diagnosis")
	if err != nil {
		return nil, false, rewriteFailure(err)
	}
	if !ok {
		return nil, false, nil
	}
	if r.body[as] != '[' {
		return nil, false, errSeqUnreadable
	}
	type ranked struct{ s, e, n int }
	var kept []ranked
	anyCut := false
	err = fjson.ArrayEach(r.body, as, func(s, e int) error {
		if insideAny(s-it.start, e-it.start, it.redacted) {
			anyCut = true
			return nil
		}
		if r.body[s] != '{' {
			return errSeqUnreadable
		}
		found := false
		return fjson.ObjectEach(r.body, s, func(key []byte, vs, ve int) error {
			if keyName(key) != "rank" {
				return nil
			}
			if found {
				return errSeqUnreadable
			}
			found = true
			n, ok := seqNumber(r.body, vs, ve)
			if !ok {
				return errSeqUnreadable
			}
			if insideAny(vs-it.start, ve-it.start, it.masked) {
				anyCut = true // masked away (mask.go): ranked as a cut one
				return nil
			}
			kept = append(kept, ranked{vs, ve, n})
			return nil
		})
	})
	if err != nil {
		if errors.Is(err, errSeqUnreadable) {
			if anyCut {
				return nil, false, errSeqUnreadable
			}
			return nil, false, nil
		}
		return nil, false, rewriteFailure(err)
	}
	if !anyCut {
		return nil, false, nil
	}
	distinct := make([]int, 0, len(kept))
	for _, k := range kept {
		distinct = append(distinct, k.n)
	}
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	var edits []fjson.Edit
	for _, k := range kept {
		if it.cutAt(k.s, k.e) {
			continue
		}
		n := slices.Index(distinct, k.n) + 1
		if n != k.n {
			edits = append(edits, fjson.Edit{Start: k.s, End: k.e, Data: strconv.AppendInt(nil, int64(n), 10)})
		}
	}
	return edits, true, nil
}

// sequenceEdits returns, for a Claim, ExplanationOfBenefit or Encounter
// something numbered of which was cut, the edits that renumber what is
// left and the values to remove with the cut (pointers at a cut element).
// It runs in makeItemEdits, once
// followSequences has cut what it must.
func (r *run) sequenceEdits(it *item) ([]fjson.Edit, []span, error) {
	if it.res.Type == "Encounter" {
		edits, _, err := r.rankEdits(it)
		if errors.Is(err, errSeqUnreadable) {
			return nil, nil, rewriteFailure(err) // followRanks withheld it
		}
		return edits, nil, err
	}
	v, ok, err := r.readSeqView(it)
	if err != nil || !ok {
		if err != nil {
			if r.anyNumberedCut(it) {
				return nil, nil, rewriteFailure(err) // followSequences withheld it
			}
			err = nil
		}
		return nil, nil, err
	}
	var edits []fjson.Edit
	var drop []span
	renumber := map[string]map[int]int{} // member: old number -> new; cut ones -1
	anyCut := false
	for _, l := range seqLists[it.res.Type] {
		m := map[int]int{}
		next := 1
		for _, el := range v.lists[l.name] {
			if el.ns < 0 {
				continue // an unnumbered note
			}
			if el.cut || el.unnumbered {
				m[el.n] = -1
				anyCut = true
				continue
			}
			if l.keep {
				m[el.n] = el.n
				continue
			}
			m[el.n] = next
			if next != el.n && !it.cutAt(el.ns, el.ne) {
				edits = append(edits, fjson.Edit{Start: el.ns, End: el.ne, Data: strconv.AppendInt(nil, int64(next), 10)})
			}
			next++
		}
		renumber[l.name] = m
	}
	if !anyCut {
		return nil, nil, nil
	}
	pointerTarget := map[string]string{"itemSequence": "item"}
	for _, l := range seqLists[it.res.Type] {
		if l.pointer != "" {
			pointerTarget[l.pointer] = l.name
		}
	}
	for _, src := range [2][]seqElem{v.lists["item"], v.addItem} {
		for _, el := range src {
			if el.cut {
				continue
			}
			for name, ps := range el.pointersOf {
				m := renumber[pointerTarget[name]]
				for _, p := range ps {
					if it.cutAt(p.s, p.e) {
						continue
					}
					n, ok := m[p.n]
					switch {
					case !ok || n < 0: // at a cut element, or at none
						drop = append(drop, span{p.s, p.e})
					case n != p.n:
						edits = append(edits, fjson.Edit{Start: p.s, End: p.e, Data: strconv.AppendInt(nil, int64(n), 10)})
					}
				}
			}
		}
	}
	return edits, drop, nil
}

// Totals. A total is the sum of the items it totals: with an item cut, or
// its amounts masked (mask.go removes numbers), the total less the items
// shown is the amount of the one withheld, so the totals go too, and the
// adjudication of the claim as a whole (an EOB's or ClaimResponse's
// header-level adjudication, amounts and reasons over every item). By
// type, the members whose elements are summed and the totals.
var totalsOf = map[string]struct{ parts, totals []string }{
	"Claim":                {[]string{"item"}, []string{"total"}},
	"ExplanationOfBenefit": {[]string{"item", "addItem"}, []string{"total", "payment", "adjudication"}},
	"ClaimResponse":        {[]string{"item", "addItem"}, []string{"total", "payment", "adjudication"}},
	"Invoice":              {[]string{"lineItem"}, []string{"totalNet", "totalGross", "totalPriceComponent"}},
}

// totalTargets are the totals of it (above) when an element of what they
// sum was cut or masked, or holds one that was.
func (r *run) totalTargets(it *item) ([]span, error) {
	t, ok := totalsOf[it.res.Type]
	if !ok || len(it.redacted)+len(it.masked) == 0 {
		return nil, nil
	}
	touched := func(s, e int) bool {
		for _, es := range [2][]labels.ElementLabel{it.redacted, it.masked} {
			for _, x := range es {
				if it.start+x.Start < e && it.start+x.End > s {
					return true
				}
			}
		}
		return false
	}
	hit := false
	var totals []span
	err := fjson.ObjectEach(r.body, it.start, func(key []byte, s, e int) error {
		k := keyName(key)
		switch {
		case slices.Contains(t.parts, k):
			if r.body[s] != '[' {
				hit = hit || touched(s, e)
				return nil
			}
			return fjson.ArrayEach(r.body, s, func(es, ee int) error {
				hit = hit || touched(es, ee)
				return nil
			})
		case slices.Contains(t.totals, k), len(k) > 1 && k[0] == '_' && slices.Contains(t.totals, k[1:]):
			totals = append(totals, span{s, e})
		}
		return nil
	})
	if err != nil {
		return nil, rewriteFailure(err)
	}
	if !hit {
		return nil, nil
	}
	out := totals[:0]
	for _, sp := range totals {
		if !it.cutAt(sp.start, sp.end) {
			out = append(out, sp)
		}
	}
	return out, nil
}

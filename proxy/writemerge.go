package proxy

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/jsonmerge"
	"github.com/ds4p/ds4p/labels"
)

// Updates against a partial view. A caller may read a resource but not all
// of it: a List whose entry names a withheld Condition, a claim whose SUD
// diagnosis is cut, a Patient whose Part 2 enrolment is cut, a masked
// value, attachment data removed, labels the proxy added. Stored as the
// caller wrote it, an update of what it read would erase in the EHR what
// it was not shown, and refusing the update would tell it (for the
// enrolment, nothing else does). So an update is applied to the caller's
// view of the stored version and what the view left out is merged back
// (internal/jsonmerge): the caller's changes are stored, and nothing it
// did not see is lost.
//
// The stored version is read and labelled, decided and cut as a read by
// the caller would be (the whole response pipeline but the ledger:
// nothing of it is disclosed). The merged body is what the upstream gets;
// the references checked are the caller's own (what the merge restores
// is stored already, and checking it would tell the caller about it). The
// upstream is asked to store it only over the version it was merged
// with: If-Match with that version, unless the caller sent its own; a
// write in between answers 412 and the caller tries again.

// storedForUpdate is the stored version of an update's resource, as the
// caller may see it.
type storedForUpdate struct {
	res     labels.Result // its labels, as a read would give them
	body    []byte        // the stored bytes
	edits   []fjson.Edit  // what makes the caller's view of body
	version string        // meta.versionId, "" when there is none
	// partial: the view lacks or masks something of the stored version
	// (elements cut, values masked, attachment data removed), beyond
	// labels added and URLs pointed at the proxy.
	partial bool
}

// storedView reads and decides the stored version of req's resource as a
// read by the caller would: a withheld one and a missing one answer as
// missing, as storedReadable's.
func (s *Server) storedView(ctx context.Context, ex *exchange, req fhirRequest) (*storedForUpdate, *Failure) {
	body, status, ctype, err := s.fetchStored(ctx, ex, req.Type, req.ID)
	if err != nil {
		return nil, classify(err)
	}
	missing := fail(http.StatusNotFound, "not-found", req.Type+"/"+req.ID+" is not known", missingResource{req.Type, req.ID})
	switch {
	case status == http.StatusNotFound || status == http.StatusGone:
		return nil, missing
	case status != http.StatusOK:
		return nil, storedReadFailed(status, ctype, body)
	}
	st, readable, f := s.viewOf(ctx, ex, body)
	if f != nil {
		return nil, f
	}
	if !readable {
		return nil, missing
	}
	return st, nil
}

// viewOf labels, decides and cuts body (one resource) as a read of it by
// the caller would, without recording anything; readable is false when
// the caller may not see it at all.
func (s *Server) viewOf(ctx context.Context, ex *exchange, body []byte) (st *storedForUpdate, readable bool, f *Failure) {
	bad := fail(http.StatusBadGateway, "processing", "the stored resource could not be checked", nil)
	r, root, single, err := s.collectLabelled(ctx, ex, body)
	if err != nil {
		return nil, false, bad
	}
	if root != nil || single == nil || single.res == nil {
		return nil, false, bad
	}
	steps := []func(context.Context) error{
		r.settleLabels, r.decide, r.decideContained,
		func(context.Context) error { r.applyRedactDecisions(); return nil },
		func(context.Context) error { return r.withholdUninspectable() },
		r.decideElements,
		r.decideNarratives, // as the read cuts it (enrolment.go)
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, false, classify(err)
		}
	}
	if !single.class.decision.Permitted() {
		return nil, false, nil
	}
	edits, err := r.itemEdits(single)
	if err != nil {
		return nil, false, classify(err)
	}
	at, err := r.attachmentTargets(single)
	if err != nil {
		return nil, false, classify(err)
	}
	st = &storedForUpdate{res: *single.res, body: body, edits: edits,
		partial: len(single.redacted) > 0 || len(single.masked) > 0 || len(at) > 0}
	if m, _, ok, _ := fjson.Lookup(body, single.start, "meta"); ok && body[m] == '{' {
		if vs, ve, ok, _ := fjson.Lookup(body, m, "versionId"); ok {
			st.version, _ = fjson.StringValue(body, vs, ve)
		}
	}
	return st, true, nil
}

// mergeUpdate returns the body to store for the caller's update n of the
// stored version st (of type typ).
//
// What the merge puts back must stay where the caller, and everyone else
// it is withheld from, cannot see it. Two checks keep it there:
//
//   - While the caller sees the resource in part, an update may not change
//     what decisions about it rest on: its patients, the Part 2 program it
//     is a record of, and its sensitivity (the labels derived from what
//     the caller sees, and from what that refers to, may grow, never
//     shrink or lose a confidentiality level). Moving a claim to another
//     patient would disclose its cut SUD diagnosis to whoever that patient
//     admits (QA: to another organisation), and dropping the program would
//     decide it without Part 2. The rule compares the caller's view with
//     the caller's body, so its answer depends on nothing the caller was
//     not shown; that the resource is shown in part, the REDACTED or
//     MASKED label said already (a Patient's silently cut enrolment:
//     uniformWrites).
//   - Then the merged body is decided again as the caller's read would
//     decide it, and when any value the merge restored would be shown to
//     the caller, the update is refused: a last guard for a policy whose
//     decisions the first check does not foresee.
//
// Either refusal is a 403 and nothing is written.
func (s *Server) mergeUpdate(ctx context.Context, ex *exchange, typ string, st *storedForUpdate, n []byte) ([]byte, *Failure) {
	uniform := s.uniformWrites(typ)
	if len(st.edits) == 0 && !uniform {
		return n, nil // the caller saw it whole, as stored
	}
	n, err := jsonmerge.Normalize(n) // null members and empty arrays: left out
	if err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "the request body is not a JSON object", nil)
	}
	if uniform {
		if f := enrolmentShapes(n); f != nil {
			return nil, f
		}
	}
	out, restored, err := jsonmerge.MergeTracked(st.body, st.edits, n)
	var shape *jsonmerge.ShapeError
	switch {
	case errors.As(err, &shape):
		return nil, fail(http.StatusUnprocessableEntity, "processing", shape.Member+" is an array; the update gives it another kind of value", nil)
	case errors.Is(err, jsonmerge.ErrAmbiguous):
		return nil, fail(http.StatusConflict, "conflict", "the update changes the length of an array and one of its elements was shown to you in part (the resource is REDACTED); change that element in place, or leave the array's other elements as they are, and send it again", err)
	case err != nil:
		return nil, fail(http.StatusInternalServerError, "exception", "the update could not be applied to the stored resource; nothing was written", err)
	}
	if st.partial || uniform {
		view, err := fjson.Apply(nil, st.body, st.edits)
		if err != nil {
			return nil, fail(http.StatusInternalServerError, "exception", "the update could not be applied to the stored resource; nothing was written", err)
		}
		if f := s.sameDecisionFacts(ctx, ex, view, n); f != nil {
			return nil, f
		}
	}
	if len(restored) == 0 {
		return out, nil
	}
	shown, f := s.restoredShown(ctx, ex, out, restored)
	if f != nil || len(shown) == 0 {
		return out, f
	}
	// The stored narrative, restored because the caller sent none, would
	// be shown: it was cut for what the update no longer has (a Patient's
	// enrolment the caller wrote over). It is left out rather than the
	// update refused, as the README's stale narrative allows; a refusal
	// here, for an enrolment cut without a mark, would tell the caller
	// which Patients are a program's (QA round 11).
	if trimmed, rest, ok := withoutRestoredText(out, restored, shown); ok {
		if shown, f = s.restoredShown(ctx, ex, trimmed, rest); f != nil {
			return nil, f
		}
		if len(shown) == 0 {
			return trimmed, nil
		}
	}
	return nil, fail(http.StatusForbidden, "forbidden", "the update changes what the decision about this resource rests on (its patient, its source or its labels) so that you would be shown what was withheld from you; nothing was written", nil)
}

// restoredShown returns the spans of restored, what the merge put back
// into out, that the caller's read of out would show.
func (s *Server) restoredShown(ctx context.Context, ex *exchange, out []byte, restored []jsonmerge.Span) ([]jsonmerge.Span, *Failure) {
	mv, readable, f := s.viewOf(ctx, ex, out)
	if f != nil {
		return nil, fail(http.StatusUnprocessableEntity, "processing", "the updated resource could not be checked; nothing was written", f)
	}
	if !readable {
		return nil, nil
	}
	var shown []jsonmerge.Span
	for _, sp := range restored {
		if !covered([]jsonmerge.Span{sp}, mv.edits) {
			shown = append(shown, sp)
		}
	}
	return shown, nil
}

// withoutRestoredText returns out without its top-level text member when
// every span of shown lies in that member's value (the stored narrative
// put back), with the restored spans that remain, moved to where they lie
// then; ok false otherwise. out's top level is as the merge writes it:
// "key":value members joined by commas, nothing between.
func withoutRestoredText(out []byte, restored, shown []jsonmerge.Span) ([]byte, []jsonmerge.Span, bool) {
	ks, ve := -1, -1
	_ = fjson.ObjectEach(out, 0, func(key []byte, vs, e int) error {
		if fjson.KeyIs(key, "text") && ks < 0 {
			ks, ve = vs-len(key)-3, e
		}
		return nil
	})
	if ks <= 0 || out[ks] != '"' || out[ks+len(`"text"`)] != ':' {
		return nil, nil, false
	}
	in := func(sp jsonmerge.Span) bool { return sp.Start >= ks && sp.End <= ve }
	for _, sp := range shown {
		if !in(sp) {
			return nil, nil, false
		}
	}
	start, end := ks, ve // the member and one comma beside it
	switch {
	case end < len(out) && out[end] == ',':
		end++
	case out[start-1] == ',':
		start--
	}
	trimmed := append(append(make([]byte, 0, len(out)-(end-start)), out[:start]...), out[end:]...)
	var rest []jsonmerge.Span
	for _, sp := range restored {
		switch {
		case in(sp):
		case sp.Start >= end:
			rest = append(rest, jsonmerge.Span{Start: sp.Start - (end - start), End: sp.End - (end - start)})
		default:
			rest = append(rest, sp)
		}
	}
	return trimmed, rest, true
}

// enrolmentShapes refuses (422) a Patient whose enrolment members are of
// another kind than FHIR gives them, for every Patient alike: the merge
// refuses a wrong kind over a member it cut whole (jsonmerge.ShapeError),
// which for a silently cut enrolment would answer otherwise than the
// server does for a Patient with none.
func enrolmentShapes(n []byte) *Failure {
	var f *Failure
	_ = fjson.ObjectEach(n, fjson.SkipSpace(n, 0), func(key []byte, vs, _ int) error {
		switch {
		case fjson.KeyIs(key, "generalPractitioner") && n[vs] != '[':
			f = fail(http.StatusUnprocessableEntity, "processing", "generalPractitioner is an array; the update gives it another kind of value", nil)
		case fjson.KeyIs(key, "managingOrganization") && n[vs] != '{':
			f = fail(http.StatusUnprocessableEntity, "processing", "managingOrganization is an object; the update gives it another kind of value", nil)
		}
		return nil
	})
	return f
}

// uniformWrites: updates and JSON Patches of this type always go the
// merge's way, whatever the caller's view lacks. A Patient's Part 2
// enrolment is cut without a REDACTED mark (enrolment.go); were only the
// Patients with a cut enrolment merged, the differences between the two
// ways (what a patch error says, the member order stored, If-Match) would
// tell which Patients are a program's.
func (s *Server) uniformWrites(typ string) bool {
	return typ == "Patient" && s.labeller.HasPrograms()
}

// sameDecisionFacts refuses an update whose body n, against the caller's
// view of the stored version, names other patients, another Part 2
// program, or less sensitivity (mergeUpdate). Both are labelled as a
// response would be (reference targets included), their meta.security
// left out: the labels written there are the label checks' business.
func (s *Server) sameDecisionFacts(ctx context.Context, ex *exchange, view, n []byte) *Failure {
	before, f := s.labelOne(ctx, ex, withoutLabels(view))
	if f != nil {
		return f
	}
	after, f := s.labelOne(ctx, ex, withoutLabels(n))
	if f != nil {
		return fail(http.StatusUnprocessableEntity, "processing", "the updated resource could not be labelled; nothing was written", f)
	}
	refuse := func(what string) *Failure {
		return fail(http.StatusForbidden, "forbidden", "parts of this resource are withheld from you, so an update may not change "+what+"; nothing was written", nil)
	}
	if before.Patient != after.Patient || before.SubjectPatient != after.SubjectPatient || before.PatientIdentifier != after.PatientIdentifier ||
		before.PatientConflict != after.PatientConflict || !slices.Equal(before.Patients, after.Patients) {
		return refuse("the patients it belongs to or names")
	}
	if before.Program != after.Program {
		return refuse("the Part 2 program it is a record of")
	}
	bc, _ := before.Labels.Confidentiality()
	ac, _ := after.Labels.Confidentiality()
	if labels.ConfidentialityRank(ac) < labels.ConfidentialityRank(bc) {
		return refuse("what makes it sensitive")
	}
	for _, l := range before.Labels {
		if l.System != labels.SystemConfidentiality && !after.Labels.Has(l) {
			return refuse("what makes it sensitive")
		}
	}
	return nil
}

// labelOne labels one resource as the response pipeline would, reference
// targets included.
func (s *Server) labelOne(ctx context.Context, ex *exchange, body []byte) (labels.Result, *Failure) {
	bad := fail(http.StatusBadRequest, "invalid", "the resource could not be labelled", nil)
	r, root, single, err := s.collectLabelled(ctx, ex, body)
	if err != nil || root != nil || single == nil || single.res == nil {
		return labels.Result{}, bad
	}
	if err := r.settleLabels(ctx); err != nil {
		return labels.Result{}, classify(err)
	}
	return *single.res, nil
}

// withoutLabels is the JSON object b without the labels of its meta
// (meta.security): the rest of meta stays, meta.source naming a Part 2
// program above all (QA round 11: an update dropping meta.source, compared
// without meta, moved a Part 2 record out of the program unseen).
func withoutLabels(b []byte) []byte {
	out := make([]byte, 0, len(b))
	return appendWithout(out, b, fjson.SkipSpace(b, 0), func(key []byte, vs int) (skip bool, inner bool) {
		return false, fjson.KeyIs(key, "meta") && vs < len(b) && b[vs] == '{'
	})
}

// appendWithout appends the object at b[start] without meta.security: the
// top-level member named meta (inner) is copied without its security
// member. On a malformed object it appends b as it is.
func appendWithout(out, b []byte, start int, top func(key []byte, vs int) (skip, inner bool)) []byte {
	mark := len(out)
	out = append(out, '{')
	first := true
	err := fjson.ObjectEach(b, start, func(key []byte, vs, ve int) error {
		skip, inner := top(key, vs)
		if skip {
			return nil
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(append(append(out, '"'), key...), '"', ':')
		if !inner {
			out = append(out, b[vs:ve]...)
			return nil
		}
		out = appendWithout(out, b, vs, func(k []byte, _ int) (bool, bool) { return fjson.KeyIs(k, "security"), false })
		return nil
	})
	if err != nil {
		return append(out[:mark], b...)
	}
	return append(out, '}')
}

// covered reports whether every span lies within an edit that removes or
// replaces it (edits sorted, as the pipeline makes them).
func covered(spans []jsonmerge.Span, edits []fjson.Edit) bool {
	for _, sp := range spans {
		i := sort.Search(len(edits), func(i int) bool { return edits[i].End >= sp.End })
		if i == len(edits) || edits[i].Start > sp.Start || edits[i].End == edits[i].Start {
			return false
		}
	}
	return true
}

// ifMatchVersion is the If-Match value for a stored version id.
func ifMatchVersion(version string) string {
	return `W/` + strconv.Quote(version)
}

// entryMerge is an update entry of a batch whose body the merge changed,
// or which is to be stored only over the version it was merged with.
type entryMerge struct {
	index   int
	body    []byte // the resource to store
	version string // the stored version it was merged with ("" none)
	put     bool   // a patch applied to the caller's view: stored as an update
}

// rewriteBatch puts each merged entry's resource into the batch body and
// request.ifMatch with the version it was merged with.
func rewriteBatch(body []byte, merged []entryMerge) ([]byte, *Failure) {
	bad := fail(http.StatusInternalServerError, "exception", "the batch could not be rewritten; nothing was written", nil)
	es, _, ok, err := fjson.Lookup(body, 0, "entry")
	if err != nil || !ok || body[es] != '[' {
		return nil, bad
	}
	var edits []fjson.Edit
	next, i := 0, 0
	err = fjson.ArrayEach(body, es, func(s, _ int) error {
		defer func() { i++ }()
		if next >= len(merged) || merged[next].index != i {
			return nil
		}
		m := merged[next]
		next++
		if m.version != "" {
			rs, _, ok, err := fjson.Lookup(body, s, "request")
			if err != nil || !ok || body[rs] != '{' {
				return errors.New("an update entry without its request")
			}
			// The entry's own ifMatch, when it has one, named this version
			// (guardBatch), but it was read by encoding/json, whose names
			// match whatever their case: "IfMatch", which a server reading
			// request.ifMatch ignores, counted as one (QA round 35). So the
			// member spelled exactly gets the version, in place or added.
			v := fjson.AppendString(nil, ifMatchVersion(m.version))
			if vs, ve, ok, err := fjson.Lookup(body, rs, "ifMatch"); err != nil {
				return err
			} else if ok {
				edits = append(edits, fjson.Edit{Start: vs, End: ve, Data: v})
			} else {
				edits = append(edits, fjson.Edit{Start: rs + 1, End: rs + 1, Data: append(append([]byte(`"ifMatch":`), v...), ',')})
			}
		}
		if m.put {
			rs, _, ok, err := fjson.Lookup(body, s, "request")
			if err != nil || !ok || body[rs] != '{' {
				return errors.New("a patch entry without its request")
			}
			ms, me, ok, err := fjson.Lookup(body, rs, "method")
			if err != nil || !ok {
				return errors.New("a patch entry without its method")
			}
			edits = append(edits, fjson.Edit{Start: ms, End: me, Data: []byte(`"PUT"`)})
		}
		vs, ve, ok, err := fjson.Lookup(body, s, "resource")
		if err != nil || !ok {
			return errors.New("an update entry without its resource")
		}
		edits = append(edits, fjson.Edit{Start: vs, End: ve, Data: m.body})
		return nil
	})
	if err != nil || next != len(merged) {
		return nil, bad
	}
	sortEditsByStart(edits)
	out, err := fjson.Apply(make([]byte, 0, len(body)+256), body, edits)
	if err != nil {
		return nil, bad
	}
	return out, nil
}

func sortEditsByStart(edits []fjson.Edit) {
	slices.SortStableFunc(edits, func(a, b fjson.Edit) int { return a.Start - b.Start })
}

// patchView applies a JSON Patch to the caller's view of the stored
// version, whose paths are what the caller saw (an index into an array
// that lost an element to the cut names another element in the stored
// version), and merges the result back as an update.
func (s *Server) patchView(ctx context.Context, ex *exchange, typ string, st *storedForUpdate, patch []byte) ([]byte, *Failure) {
	view, err := fjson.Apply(nil, st.body, st.edits)
	if err != nil {
		return nil, fail(http.StatusInternalServerError, "exception", "the patch could not be applied to the stored resource; nothing was written", err)
	}
	n, err := jsonmerge.ApplyPatch(view, patch)
	var pe *jsonmerge.PatchError
	switch {
	case errors.As(err, &pe):
		return nil, fail(http.StatusUnprocessableEntity, "processing", "the patch cannot be applied: "+pe.Msg, nil)
	case err != nil:
		return nil, fail(http.StatusInternalServerError, "exception", "the patch could not be applied to the stored resource; nothing was written", err)
	}
	return s.mergeUpdate(ctx, ex, typ, st, n)
}

// fhirPathPatchable refuses a FHIRPath Patch of a resource the caller sees
// in part. The server applies it to the stored resource, where its paths
// reach what was cut: it could change or delete a cut element, or move the
// resource to a patient whose consent admits the caller and so show the
// cut elements on the next read. ds4p has no FHIRPath engine to apply it
// to the view as it does a JSON Patch. "In part" means an element was cut
// or masked, or attachment data removed; labels the read adds and URLs it
// points at the proxy do not count.
//
// A Patient's Part 2 enrolment is cut without a REDACTED mark, so refusing
// by what was cut would tell the caller it is there: while Part 2 programs
// are configured, a FHIRPath Patch of any Patient is refused, whatever it
// holds.
func (s *Server) fhirPathPatchable(req fhirRequest, st *storedForUpdate) *Failure {
	const use = "; send a JSON Patch (application/json-patch+json) or an update instead"
	if req.Type == "Patient" && s.labeller.HasPrograms() {
		return fail(http.StatusUnprocessableEntity, "not-supported", "a FHIRPath Patch of a Patient is not supported while Part 2 programs are configured"+use, nil)
	}
	if st.partial {
		return fail(http.StatusUnprocessableEntity, "not-supported", "a FHIRPath Patch of a resource shown to you in part (REDACTED or MASKED) is not supported"+use, nil)
	}
	return nil
}

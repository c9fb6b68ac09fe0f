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
// stored version st.
//
// What the merge puts back stays where the caller cannot see it only while
// what the decision rests on stays: an update that moves a claim to
// another patient (one whose consent admits the caller), or drops the
// Part 2 program it came from, would have the next read disclose the
// diagnosis that was cut. So the merged body is decided again as the
// caller's read would decide it, and when any value the merge restored
// would be shown, the update is refused (403) and nothing is written. The
// caller learns that its change would show it something withheld; the
// view's REDACTED or MASKED label had told it something was.
func (s *Server) mergeUpdate(ctx context.Context, ex *exchange, st *storedForUpdate, n []byte) ([]byte, *Failure) {
	if len(st.edits) == 0 {
		return n, nil // the caller saw it whole, as stored
	}
	out, restored, err := jsonmerge.MergeTracked(st.body, st.edits, n)
	switch {
	case errors.Is(err, jsonmerge.ErrAmbiguous):
		return nil, fail(http.StatusConflict, "conflict", "the update changes the length of an array and one of its elements was shown to you in part (the resource is REDACTED); change that element in place, or leave the array's other elements as they are, and send it again", err)
	case err != nil:
		return nil, fail(http.StatusInternalServerError, "exception", "the update could not be applied to the stored resource; nothing was written", err)
	}
	if len(restored) == 0 {
		return out, nil
	}
	mv, readable, f := s.viewOf(ctx, ex, out)
	if f != nil {
		return nil, fail(http.StatusUnprocessableEntity, "processing", "the updated resource could not be checked; nothing was written", f)
	}
	if readable && !covered(restored, mv.edits) {
		return nil, fail(http.StatusForbidden, "forbidden", "the update changes what the decision about this resource rests on (its patient, its source or its labels) so that you would be shown what was withheld from you; nothing was written", nil)
	}
	return out, nil
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
	ifMatch bool   // the entry has its own request.ifMatch
	put     bool   // a patch applied to the caller's view: stored as an update
}

// rewriteBatch puts each merged entry's resource into the batch body and,
// unless the entry has its own, request.ifMatch with the version it was
// merged with.
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
		if m.version != "" && !m.ifMatch {
			rs, _, ok, err := fjson.Lookup(body, s, "request")
			if err != nil || !ok || body[rs] != '{' {
				return errors.New("an update entry without its request")
			}
			field := fjson.AppendString([]byte(`"ifMatch":`), ifMatchVersion(m.version))
			edits = append(edits, fjson.Edit{Start: rs + 1, End: rs + 1, Data: append(field, ',')})
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
func (s *Server) patchView(ctx context.Context, ex *exchange, st *storedForUpdate, patch []byte) ([]byte, *Failure) {
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
	return s.mergeUpdate(ctx, ex, st, n)
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

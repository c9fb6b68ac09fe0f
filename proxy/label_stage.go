package proxy

import (
	"context"

	"github.com/ds4p/ds4p/labels"
)

// labelItems labels every resource the pipeline collected, and the
// resources contained in them, as one batch so that labels propagate along
// references between them (and from the labeller's cache of earlier
// responses). Each label carries its reason inside labels.Result; reasons
// never reach the caller.
//
// A resource's element labels stay on its elements (labels.Result.Elements):
// the resource is decided on its resource labels and each element on its
// own class, and a denied element is removed (redact.go). An inline label
// on the resource object itself is a resource label. Contained resources
// are labelled whole (labels.Result.WholeResource) and settled into their
// container (contained.go).
func (r *run) labelItems(ctx context.Context) error {
	if err := r.labelBatch(ctx); err != nil {
		return err
	}
	return r.settleLabels(ctx)
}

// labelBatch is labelItems without settleLabels: the validating path's
// labelling, for a body fjson.Validate accepted whole. collectChecked
// labels the same batch, in the same order, resource by resource as
// collect finds them.
func (r *run) labelBatch(ctx context.Context) error {
	if err := r.findContained(); err != nil {
		return err
	}
	batch := make([][]byte, 0, len(r.items))
	// Contained resources and stored copies are not the server's resources
	// of their Type/id (labels.Result.CopyIn, ContainedIn).
	var copies []labels.Copy
	for i, it := range r.items {
		batch = append(batch, r.body[it.start:it.end])
		if it.copyIn != 0 || it.inBundle() != nil {
			if copies == nil {
				copies = make([]labels.Copy, len(r.items))
			}
			copies[i].Scope, copies[i].Labels = it.copyIn, it.inBundle()
		}
	}
	for _, it := range r.items {
		for _, c := range it.contained {
			batch = append(batch, r.body[c.start:c.end])
			if copies == nil {
				copies = make([]labels.Copy, len(r.items))
			}
			copies = append(copies, labels.Copy{Scope: it.copyIn, Contained: true, Labels: it.inBundle()})
		}
	}
	l := r.s.labeller
	if r.ex.explain {
		// A simulation (POST /admin/decide) changes nothing the proxy
		// serves by: its inline resources are the policy author's, not
		// the server's, and noted in the label cache they were taken for
		// the server's (QA round 35, area D).
		l = l.Uncached()
	}
	// With r.valid the same results, without checking the JSON again.
	results, err := l.LabelAllResolvingCopies(batch, r.valid, r.targetFetcher(ctx), copies)
	if err != nil {
		return targetsFailed(err)
	}
	k := len(r.items)
	for i, it := range r.items { // items point into results: one copy of each Result
		results[i] = resourceLevel(results[i], it.end-it.start)
		it.res = &results[i]
		for _, c := range it.contained {
			results[k] = results[k].WholeResource()
			c.res = &results[k]
			k++
		}
	}
	return nil
}

// settleLabels completes the labels of every item once labelled: a
// resource naming different patients given a patient that withholds it
// (patient_conflict.go), patients named by identifier resolved, and
// contained resources settled into their containers.
func (r *run) settleLabels(ctx context.Context) error {
	if r.ex.req.Interaction == VRead || r.ex.req.Interaction == History {
		// Versions that may be older than the current ones: the label
		// cache noted them as any response's, but does not know the
		// resources by them (labels.Labeller.NotCurrent).
		for _, it := range r.items {
			r.s.labeller.NotCurrent(it.res.Type, it.res.ID)
		}
	}
	// patient_conflict.go: first, before anything reads a patient.
	r.markPatientConflicts(ctx)
	if err := r.resolvePatients(ctx); err != nil { // patient_identity.go
		return err
	}
	if err := r.labelEnrolment(); err != nil { // enrolment.go
		return err
	}
	for _, it := range r.items {
		settleContained(it)
	}
	return nil
}

// resourceLevel moves the labels of an "element" that is the whole
// resource (an inline label on the resource object) into its labels.
func resourceLevel(res labels.Result, size int) labels.Result {
	var kept []labels.ElementLabel
	for _, e := range res.Elements {
		if e.Start <= 0 && e.End >= size {
			res.Labels, res.Changed = highWater(res.Labels.Union(e.Labels)), true
			continue
		}
		kept = append(kept, e)
	}
	if len(kept) != len(res.Elements) {
		res.Elements = kept
	}
	return res
}

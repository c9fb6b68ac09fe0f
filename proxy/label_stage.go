package proxy

import (
	"context"
	"net/http"
)

// labelItems labels every resource the pipeline collected, as one batch so
// that labels propagate along references between them (and from the
// labeller's cache of earlier responses). Each label carries its reason
// inside labels.Result; reasons never reach the caller.
//
// Enforcement cannot remove single elements yet, so a resource that mixes
// sensitive and ordinary elements is decided and labelled as a whole
// (labels.Result.WholeResource): its element labels also go to
// meta.security, failing closed, while the inline labels are still
// written on the elements.
func (r *run) labelItems(ctx context.Context) error {
	_, span := tracer.Start(ctx, "proxy.pipeline.labelItems")
	defer span.End()
	batch := make([][]byte, len(r.items))
	for k, it := range r.items {
		batch[k] = r.body[it.start:it.end]
	}
	results, err := r.s.labeller.LabelAll(batch)
	if err != nil {
		return fail(http.StatusBadGateway, "processing", "a resource from the FHIR server could not be labelled", err)
	}
	for k, it := range r.items {
		it.res = results[k].WholeResource()
	}
	return nil
}

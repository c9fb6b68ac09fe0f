package proxy

import (
	"context"
	"net/http"
)

// labelItems labels every resource the pipeline collected. Each label
// carries its reason inside labels.Result; reasons never reach the caller.
func (r *run) labelItems(ctx context.Context) error {
	_, span := tracer.Start(ctx, "proxy.pipeline.labelItems")
	defer span.End()
	for _, it := range r.items {
		res, err := r.s.labeller.Label(r.body[it.start:it.end])
		if err != nil {
			return fail(http.StatusBadGateway, "processing", "a resource from the FHIR server could not be labelled", err)
		}
		it.res = res
	}
	return nil
}

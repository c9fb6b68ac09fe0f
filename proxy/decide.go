package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/policy"
)

// decide evaluates one decision per class. Any error withholds the whole
// response.
func (r *run) decide(ctx context.Context) error {
	now := time.Now().UnixNano()
	for _, it := range r.items {
		key := classKey(it)
		c, ok := r.classes[key]
		if !ok {
			c = &class{patient: it.res.Patient, typ: it.res.Type, labels: it.res.Labels}
			if err := r.evaluate(ctx, c, now); err != nil {
				return err
			}
			r.classes[key] = c
		}
		it.class = c
	}
	return nil
}

func classKey(it *item) string {
	return it.res.Patient + "\x00" + it.res.Type + "\x00" + it.res.Labels.Key()
}

func (r *run) evaluate(ctx context.Context, c *class, now int64) error {
	consents, err := r.consentsOf(ctx, c.patient)
	if err != nil {
		return err
	}
	in := policy.Input{
		Caller:   r.ex.policyCaller(),
		Request:  policy.Request{Interaction: r.ex.req.Interaction, Type: r.ex.req.Type, TimeNS: now},
		Patient:  c.patient,
		Consents: consents,
		Item:     policy.Item{Type: c.typ, Labels: labelStrings(c.labels)},
	}
	d, err := r.s.decider.Decide(ctx, in)
	if err != nil {
		return fail(http.StatusInternalServerError, "exception", "the response could not be checked against policy and was withheld", err)
	}
	c.decision = d
	for _, reason := range d.Reasons {
		if reason.Consent != "" && d.Permitted() {
			r.refs[reason.Consent+"\x00"+reason.Version] = audit.ConsentRef{ID: reason.Consent, Version: reason.Version}
		}
	}
	return nil
}

func (r *run) consentsOf(ctx context.Context, patient string) ([]any, error) {
	if patient == "" {
		return []any{}, nil
	}
	if cs, ok := r.consents[patient]; ok {
		return cs, nil
	}
	cs, err := r.s.policyConsents(ctx, patient)
	if err != nil {
		return nil, fail(http.StatusInternalServerError, "exception", "the patient's consents could not be read; the response was withheld", err)
	}
	r.consents[patient] = cs
	return cs, nil
}

package proxy

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/policy"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Decision classes. The items of one response that share patient, resource
// type and label set (and, once the labeller reports it, source) form one
// class and get one policy.Decide call: the policy input carries nothing
// per resource (no id, no code, no date), so every item of a class would get
// the same answer anyway. The engine may answer a class from its
// cross-request cache (see policy.Engine); the key it uses includes the
// consent versions of the patient (policy.ConsentKey), so a new consent
// version or a policy reload is seen on the next request.

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
	r.noteBreakGlass(ctx)
	return nil
}

func classKey(it *item) string {
	return it.res.Patient + "\x00" + it.res.Type + "\x00" + it.res.Labels.Key()
}

func (r *run) evaluate(ctx context.Context, c *class, now int64) error {
	if outsideCompartment(r.ex.caller, c.patient) { // SMART patient compartment (compartment.go)
		c.decision = compartmentDenial()
		return nil
	}
	cs, err := r.consentsOf(ctx, c.patient)
	if err != nil {
		return err
	}
	in := policy.Input{
		Caller:     r.ex.policyCaller(),
		Request:    policy.Request{Interaction: r.ex.req.Interaction, Type: r.ex.req.Type, TimeNS: now},
		Patient:    c.patient,
		Consents:   cs.values,
		ConsentKey: cs.key,
		Item:       policy.Item{Type: c.typ, Labels: labelStrings(c.labels)},
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

// patientConsents are one patient's consents in policy form, with the key
// naming their versions.
type patientConsents struct {
	values []any
	key    string
}

func (r *run) consentsOf(ctx context.Context, patient string) (patientConsents, error) {
	if patient == "" {
		return patientConsents{values: []any{}, key: policy.ConsentKey(nil)}, nil
	}
	if cs, ok := r.consents[patient]; ok {
		return cs, nil
	}
	values, err := r.s.policyConsents(ctx, patient)
	if err != nil {
		return patientConsents{}, fail(http.StatusInternalServerError, "exception", "the patient's consents could not be read; the response was withheld", err)
	}
	cs := patientConsents{values: values, key: consentKey(values)}
	r.consents[patient] = cs
	return cs, nil
}

// consentKey names the consent versions of values; a value of an unknown
// form leaves the key empty, which turns the cross-request cache off for
// this patient.
func consentKey(values []any) string {
	vs := make([]policy.ConsentVersion, 0, len(values))
	for _, v := range values {
		switch n := v.(type) {
		case *consent.Normalized:
			vs = append(vs, policy.ConsentVersion{ID: n.ID, Version: n.Version})
		case consent.Normalized:
			vs = append(vs, policy.ConsentVersion{ID: n.ID, Version: n.Version})
		default:
			return ""
		}
	}
	return policy.ConsentKey(vs)
}

// breakGlassUses counts responses that disclosed data only because of a
// medical emergency (42 CFR 2.51); each is also logged and flagged in the
// ledger for review.
var breakGlassUses, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.break_glass.disclosures",
	metric.WithDescription("responses that disclosed data under a break-the-glass emergency claim"))

// noteBreakGlass raises the metric and the log line of a break-the-glass
// disclosure. The log names the request and the recipient, never the
// patient or the stated reason (which may describe the patient's condition;
// the ledger keeps it).
func (r *run) noteBreakGlass(ctx context.Context) {
	n := 0
	for _, it := range r.items {
		if it.class.decision.Permitted() && it.class.decision.BreakGlass {
			n++
		}
	}
	if n == 0 {
		return
	}
	breakGlassUses.Add(ctx, 1)
	r.s.log.Warn("break-the-glass disclosure; flagged in the ledger for review",
		"request_id", r.ex.requestID, "caller_org", r.ex.caller.Org, "caller_subject", r.ex.caller.Subject,
		"items", n, "policy_revision", r.s.decider.Revision())
}

// disclosedNotices are the notices the decisions of disclosed items oblige
// (e.g. the 42 CFR 2.32 notice), once each, sorted by id.
func (r *run) disclosedNotices() []policy.Notice {
	byID := map[string]policy.Notice{}
	for _, it := range r.items {
		if d := it.class.decision; d.Permitted() {
			for _, n := range d.Notices {
				byID[n.ID] = n
			}
		}
	}
	out := make([]policy.Notice, 0, len(byID))
	for _, n := range byID {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// NoticeHeader is the response header that carries each notice a
// disclosure obliges, as "ID; text".
const NoticeHeader = "X-DS4P-Notice"

// noticeHeaderValues renders notices for NoticeHeader, keeping only
// printable ASCII.
func noticeHeaderValues(ns []policy.Notice) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, printable(n.ID+"; "+n.Text))
	}
	return out
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}

// noticeEntry is the outcome entry that carries notices in a searchset.
func noticeEntry(ns []policy.Notice) []byte {
	b := []byte(`{"resource":{"resourceType":"OperationOutcome","issue":[`)
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"severity":"information","code":"informational","details":{"text":`...)
		b = fjson.AppendString(b, n.ID)
		b = append(b, `},"diagnostics":`...)
		b = fjson.AppendString(b, n.Text)
		b = append(b, '}')
	}
	return append(b, `]},"search":{"mode":"outcome"}}`...)
}

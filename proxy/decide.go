package proxy

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/siem"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Decision classes. The items of one response that share patient, resource
// type, label set and source (a record of a Part 2 program, by the
// labeller's source rules) form one class and get one policy.Decide call:
// the policy input carries nothing per resource (no id, no code, no date),
// so every item of a class would get the same answer anyway. The one
// exception: for a patient whose consents have provisions naming codes,
// specific data or a data period, each item's facts (its codes, Type/id and
// clinical date, see itemfacts.go) go into the input and into the class
// key, so that those provisions apply to exactly the items they name.
// The engine may answer a class from its cross-request cache (see
// policy.Engine); the key it uses includes the consent versions of the
// patient (policy.ConsentKey), so a new consent version or a policy reload
// is seen on the next request.

// decide evaluates one decision per class. Any error withholds the whole
// response.
func (r *run) decide(ctx context.Context) error {
	now := time.Now().UnixNano()
	var referred []*item
	for _, it := range r.items {
		if it.res.Referred() {
			referred = append(referred, it) // after its referrers
			continue
		}
		c, err := r.itemClass(ctx, it, now)
		if err != nil {
			return err
		}
		it.class = c
	}
	return r.decideReferred(ctx, referred, now)
}

// decideReferred decides each item whose patients are those of the
// records of the response naming it (labels.Result.Referred: a
// buprenorphine Medication beside its orders) under the patients of the
// referrers disclosed only: a withheld record of another patient naming it
// must not withhold it, or its absence tells that such a record exists
// (withheld and absent look alike). With no referrer disclosed it is no
// patient's, and withheld as such.
func (r *run) decideReferred(ctx context.Context, referred []*item, now int64) error {
	if len(referred) == 0 {
		return nil
	}
	type named struct {
		res     labels.Result
		subject string
		first   bool
	}
	// By the stored Bundle a copy is in (item.copyIn, 0: the server's) and
	// Type/id: a copy inside a stored Bundle (a document, a collection,
	// perhaps made up) names a patient only to the resources of its own
	// Bundle. Counted for the server's drug of its Type/id, a collection's
	// copy of an order naming Medication/bup, read in one batch beside the
	// server's Medication/bup, made that drug p1's, and p1's clinician got
	// it, where beside nothing naming it it is no patient's and withheld
	// (QA round 35, area H; labels referrerPatients).
	byKey := make(map[itemRef]*named, len(referred))
	for _, it := range referred {
		n := &named{res: *it.res, first: true}
		n.res.Patient, n.res.Patients, n.res.SubjectPatient = "", nil, ""
		byKey[itemRef{it.copyIn, it.res.Type + "/" + it.res.ID}] = n
	}
	// One pass over the disclosed records, each one's references read once.
	for _, ref := range r.items {
		if ref.class == nil || !disclosing(ref.class.decision) || ref.res.Referred() {
			continue
		}
		refs, err := r.referencesOf(ref, nil)
		if err != nil {
			return err
		}
		for key := range refs {
			n, ok := byKey[itemRef{ref.copyIn, key}]
			if !ok {
				continue
			}
			n.res.AddPatient(ref.res.Patient)
			for _, p := range ref.res.Patients {
				n.res.AddPatient(p)
			}
			if n.first {
				n.subject, n.first = ref.res.SubjectPatient, false
			} else if ref.res.SubjectPatient != n.subject {
				n.subject = ""
			}
		}
	}
	for _, it := range referred {
		n := byKey[itemRef{it.copyIn, it.res.Type + "/" + it.res.ID}]
		if len(n.res.Patients) == 0 && n.subject == n.res.Patient && it.res.SubjectPatient != "" {
			n.res.SubjectPatient = n.subject
		}
		it.res.Patient, it.res.Patients, it.res.SubjectPatient = n.res.Patient, n.res.Patients, n.res.SubjectPatient
		c, err := r.itemClass(ctx, it, now)
		if err != nil {
			return err
		}
		it.class = c
	}
	return nil
}

// itemClass returns the decided class of it, evaluating the policy the first
// time the class is met in this response. An item that names several
// patients (labels.Result.Patients) is decided for each (multiPatientClass).
func (r *run) itemClass(ctx context.Context, it *item, now int64) (*class, error) {
	if len(it.res.Patients) > 1 {
		return r.multiPatientClass(ctx, it, now)
	}
	return r.itemClassFor(ctx, it, it.res.Patient, now)
}

// multiPatientRule names the withholding of an item that names several
// patients whom the policy answers differently.
const multiPatientRule = "ds4p.multiple_patients"

// multiPatientClass decides an item that names several patients (a Group
// of patients, an Appointment of two) as each one's: the first of them
// that denies it (outside a patient-context token's compartment, or by
// that patient's consents) withholds it; when every one discloses it with
// the same decision (effect, obligations, notices, redactions, masks),
// that decision stands. Any other difference withholds it too, as does an
// element label: the decisions would have to be merged, and elements are
// decided for one patient only (redact.go). A redact or mask is a
// disclosure (applyRedactDecisions), so it is not the answer until every
// patient is asked: QA (round 16) read an Appointment of Patient/p1 and
// Patient/p3 whole but an element when p1's decision was redact and p3's
// deny.
func (r *run) multiPatientClass(ctx context.Context, it *item, now int64) (*class, error) {
	var first *class
	for _, p := range it.res.Patients {
		c, err := r.itemClassFor(ctx, it, p, now)
		if err != nil {
			return nil, err
		}
		switch {
		case !disclosing(c.decision):
			return c, nil
		case first == nil:
			first = c
		case !sameDecision(first.decision, c.decision):
			return withheldClass(first, multiPatientRule, "the resource names several patients whose consents decide it differently"), nil
		}
	}
	if len(it.res.Elements) > 0 {
		return withheldClass(first, multiPatientRule, "the resource names several patients and has element labels"), nil
	}
	return first, nil
}

// disclosing reports whether d discloses the item in whole or in part:
// permit, redact or mask (deny, and anything else, withholds it).
func disclosing(d policy.Decision) bool {
	switch d.Effect {
	case policy.Permit, policy.Redact, policy.Mask:
		return true
	}
	return false
}

// sameDecision reports whether a and b disclose alike.
func sameDecision(a, b policy.Decision) bool {
	return a.Effect == b.Effect && a.BreakGlass == b.BreakGlass &&
		slices.Equal(a.Obligations, b.Obligations) && slices.Equal(a.Notices, b.Notices) &&
		slices.Equal(a.Redact, b.Redact) && slices.Equal(a.Mask, b.Mask)
}

// itemClassFor is itemClass for it as an item of patient.
func (r *run) itemClassFor(ctx context.Context, it *item, patient string, now int64) (*class, error) {
	facts, err := r.factsOf(ctx, it, patient)
	if err != nil {
		return nil, err
	}
	// The key is built in a reused buffer and looked up without a string
	// allocation; only a new class allocates its key.
	self := r.selfAccess(it, patient)
	if !self && it.res.Type == "Binary" {
		// The right of access as to its securityContext (selfaccess.go).
		if self, err = r.binarySelfAccess(ctx, it, patient); err != nil {
			return nil, err
		}
	}
	r.keyBuf = appendClassKey(r.keyBuf[:0], patient, it.res.Type, it.res.Labels, itemSource(it))
	r.keyBuf = append(r.keyBuf, factsKey(facts)...)
	if self {
		r.keyBuf = append(r.keyBuf, selfKey...)
	}
	if c, ok := r.classes[string(r.keyBuf)]; ok {
		return c, nil
	}
	key := r.runString(r.keyBuf)
	// A slice of its own: the engine may keep the input in its cache.
	pi := policy.Item{Type: it.res.Type, Labels: slices.Clone(r.labelStrings(it.res.Labels)), Source: itemSource(it), Facts: facts}
	c := r.newClass()
	*c = class{patient: patient, typ: it.res.Type, labels: it.res.Labels, self: self}
	if err := r.evaluateItem(ctx, c, pi, now); err != nil {
		return nil, err
	}
	r.classes[key] = c
	return c, nil
}

// selfKey marks, in a class key, the class of a patient's own record read
// by that patient (selfAccess).
const selfKey = "\x00self"

// classKey is the class of it without item facts: patient, type, label set
// and source.
func classKey(it *item) string {
	return string(appendClassKey(nil, it.res.Patient, it.res.Type, it.res.Labels, itemSource(it)))
}

// appendClassKey appends the key of the class (patient, typ, ls, source)
// to dst.
func appendClassKey(dst []byte, patient, typ string, ls labels.Set, source string) []byte {
	dst = append(append(append(append(dst, patient...), 0), typ...), 0)
	for k, l := range ls {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(append(append(dst, l.System...), '|'), l.Code...)
	}
	return append(append(dst, 0), source...)
}

// Part2Source is the policy input's item source for a record of a 42 CFR
// Part 2 program (labels.Result.Program; the labeller's source rules).
const Part2Source = "part2"

func itemSource(it *item) string {
	if it.res.Program != "" {
		return Part2Source
	}
	return ""
}

// factsOf is the policy input's item facts for it as an item of patient:
// nil unless the patient's consents name codes, data or a data period, or
// a class and it carries resources.
func (r *run) factsOf(ctx context.Context, it *item, patient string) (*policy.ItemFacts, error) {
	if patient == "" || placeholderPatient(patient) || outsideCompartment(r.ex.caller, patient) {
		return nil, nil
	}
	cs, err := r.consentsOf(ctx, patient)
	if err != nil {
		return nil, err
	}
	n := cs.needsFacts
	if !n.any() {
		return nil, nil
	}
	var f *policy.ItemFacts
	if n.own() {
		f = itemFacts(n, it.res.Type, it.res.ID, r.body[it.start:it.end])
	}
	// The resources it carries: a patient whose consents deny a class
	// alone has facts only for the items that carry some.
	if len(it.contained) > 0 && n.carried() {
		if f == nil {
			f = &policy.ItemFacts{Codes: []string{}}
		}
		if err := r.addCarriedFacts(n, f, it.contained); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// evaluate decides a class that stands for no single resource (element
// classes): its policy item carries no facts, which the policy reads
// protectively.
func (r *run) evaluate(ctx context.Context, c *class, now int64) error {
	return r.evaluateItem(ctx, c, policy.Item{Type: c.typ, Labels: labelStrings(c.labels)}, now)
}

func (r *run) evaluateItem(ctx context.Context, c *class, pi policy.Item, now int64) error {
	if c.patient == conflictPatient { // patient_conflict.go
		c.decision = conflictDenial()
		return nil
	}
	if c.patient == unresolvedPatient { // patient_identity.go
		c.decision = unresolvedDenial()
		return nil
	}
	if outsideCompartment(r.ex.caller, c.patient) { // SMART patient compartment (compartment.go)
		c.decision = compartmentDenial()
		return nil
	}
	if c.typ == "Subscription" && !r.s.opts.Requests.AllowSubscriptions {
		c.decision = subscriptionDenial()
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
		Consents:   cs.policy,
		ConsentKey: cs.key,
		Item:       pi,
		Brief:      !r.ex.explain,
		// The patient reading their own record (selfAccess): the
		// policy's right of access (rego/ds4p/access.rego).
		CallerIsPatient: c.self,
	}
	d, err := r.s.decider.Decide(ctx, in)
	if err != nil {
		return fail(http.StatusInternalServerError, "exception", "the response could not be checked against policy and was withheld", err)
	}
	c.decision = d
	r.noteRevision(d.Revision)
	// The consents a disclosure relies on go into the ledger: a redact or
	// mask discloses the item in part on them as a permit does whole (QA
	// round 16: a redaction under consent c1 recorded no consent).
	for _, reason := range d.Reasons {
		if reliedReason(reason) && disclosing(d) {
			r.refs[reason.Consent+"\x00"+reason.Version] = audit.ConsentRef{ID: reason.Consent, Version: reason.Version}
		}
	}
	return nil
}

// overriddenConsentRule is the rule of a reason naming a consent of the
// patient that denies an emergency disclosure, which the emergency
// overrode (rego/ds4p/explain.rego emergency_reasons).
const overriddenConsentRule = "break-glass-over-consent-deny"

// reliedReason reports whether reason names a consent the decision relied
// on: a consent the emergency overrode is none. Taken for one, an
// emergency disclosure against the patient's refusal was recorded as made
// under that consent and sent the 42 CFR 2.32(b) notice "Disclosed with
// the patient's written consent" with the refusing consent's scope.
func reliedReason(reason policy.Reason) bool {
	return reason.Consent != "" && reason.Rule != overriddenConsentRule
}

// noteRevision notes the policy revision of a decision this run uses.
func (r *run) noteRevision(rev string) {
	if rev != "" && !slices.Contains(r.revisions, rev) {
		r.revisions = append(r.revisions, rev)
	}
}

// policyRevision names the policy revision that decided this run, for its
// ledger entries, alerts and simulation answer: the revision of its
// decisions (policy.Decision.Revision), not the one in force when it is
// recorded, which a reload during the response may have replaced (QA round
// 16). Should a reload land between two of its decisions, the response was
// decided by both, and both are named, comma-separated, in the order their
// decisions were made. A run that asked the policy nothing (every item
// withheld by the proxy's own rules) names the revision in force.
func (r *run) policyRevision() string {
	switch len(r.revisions) {
	case 0:
		return r.s.decider.Revision()
	case 1:
		return r.revisions[0]
	}
	return strings.Join(r.revisions, ",")
}

// patientConsents are one patient's consents in policy form, with the key
// naming their versions, and whether any provision names codes, data or a
// data period (then items carry their facts).
type patientConsents struct {
	values     []any
	policy     []any // values as the policy input carries them (consent_form.go)
	key        string
	needsFacts factNeeds
}

func newPatientConsents(values []any, key string) patientConsents {
	return patientConsents{values: values, policy: policyValues(values), key: key, needsFacts: needsItemFacts(values)}
}

func (r *run) consentsOf(ctx context.Context, patient string) (patientConsents, error) {
	if patient == "" {
		return patientConsents{values: []any{}, policy: []any{}, key: policy.ConsentKey(nil)}, nil
	}
	if cs, ok := r.consents[patient]; ok {
		return cs, nil
	}
	values, err := r.s.policyConsents(ctx, patient)
	if err != nil {
		return patientConsents{}, fail(http.StatusInternalServerError, "exception", "the patient's consents could not be read; the response was withheld", err)
	}
	cs := newPatientConsents(values, consentKey(values))
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
// disclosure; the pipeline calls it once every class, element and
// contained resource is decided. The log names the request and the
// recipient, never the patient or the stated reason (which may describe
// the patient's condition; the ledger keeps it).
func (r *run) noteBreakGlass(ctx context.Context) {
	n := 0
	for _, it := range r.items {
		if disclosedUnderBreakGlass(it) {
			n++
		}
	}
	if n == 0 {
		return
	}
	breakGlassUses.Add(ctx, 1)
	r.s.log.Warn("break-the-glass disclosure; flagged in the ledger for review",
		"request_id", r.ex.requestID, "caller_org", r.ex.caller.Org, "caller_subject", logSubject(r.ex.caller),
		"items", n, "policy_revision", r.policyRevision())
	r.s.emit(siem.Event{Kind: siem.KindBreakGlass, Severity: siem.SeverityWarning, RequestID: r.ex.requestID, // events.go
		Subject: logSubject(r.ex.caller), Org: r.ex.caller.Org, Client: r.ex.caller.Client, Count: n, Revision: r.policyRevision()})
}

// disclosedUnderBreakGlass reports whether it is disclosed and anything it
// discloses (itself, a kept element, a contained resource) is disclosed
// only because of a medical emergency (42 CFR 2.51): the ledger entry gets
// the 2.51 record, and noteBreakGlass counts it.
func disclosedUnderBreakGlass(it *item) bool {
	if it.class == nil || !it.class.decision.Permitted() {
		return false
	}
	if it.class.decision.BreakGlass {
		return true
	}
	for _, c := range it.extra() {
		if c.decision.BreakGlass {
			return true
		}
	}
	for _, c := range it.contained {
		if disclosedUnderBreakGlass(c) {
			return true
		}
	}
	return false
}

// factsKey extends a class key with item facts ("" without them): every
// fact the policy input carries (policy.ItemFacts).
func factsKey(f *policy.ItemFacts) string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("\x00facts\x00")
	for _, c := range f.Codes {
		b.WriteString(c)
		b.WriteByte(1)
	}
	b.WriteByte(0)
	b.WriteString(f.Reference)
	b.WriteByte(0)
	if f.TimeNS != nil {
		b.WriteString(strconv.FormatInt(*f.TimeNS, 10))
	}
	// The span's end too: two versions of one record whose dates begin
	// alike may end apart, inside a refused data period and before it
	// (QA round 36, area F).
	b.WriteByte(0)
	if f.TimeEndNS != nil {
		b.WriteString(strconv.FormatInt(*f.TimeEndNS, 10))
	}
	// What it carries (QA round 38, area B).
	for _, list := range [][]string{f.CarriedTypes, f.CarriedCodes, f.CarriedReferences} {
		b.WriteByte(0)
		for _, v := range list {
			b.WriteString(v)
			b.WriteByte(1)
		}
	}
	return b.String()
}

// subscriptionRule names the withholding of a Subscription when
// enforcement.allow_subscriptions is off (guardSubscriptionRead,
// searchguard.go): its criteria is a search the labeller does not read.
const subscriptionRule = "ds4p.subscription"

func subscriptionDenial() policy.Decision {
	return policy.Decision{
		Effect:  policy.Deny,
		Reasons: []policy.Reason{{Rule: subscriptionRule, Message: "a Subscription's criteria is a search the proxy does not check; Subscriptions are read only where enforcement.allow_subscriptions is on"}},
	}
}

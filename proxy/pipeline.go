package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"go.opentelemetry.io/otel/attribute"
)

// maxBundleNesting bounds Bundles inside Bundles.
const maxBundleNesting = 8

// item is one resource of a response: where it is, what it is, its labels
// and the decision of its class.
type item struct {
	start, end int
	res        *labels.Result // its labels: &label, or LabelAll's result (labelItems)
	label      labels.Result  // its labels when labelled by the checked walk (collectChecked)
	class      *class
	// contained are the resources of its contained array (contained.go).
	contained []*item
	// copyIn: not the server's resource of its Type/id, but a copy inside
	// the stored Bundle that this names (storedCopy: labels.Result.CopyIn);
	// 0 for the server's.
	copyIn int
	// redacted are the elements removed; res.Elements keeps the others
	// (redact.go).
	redacted []labels.ElementLabel
	// masked are the elements kept with their values masked (mask.go).
	masked []labels.ElementLabel
	// aside holds what few items have (its stored Bundles' labels, a
	// Patient's enrolment, the classes of its kept elements), nil for
	// the others: a 1,000-entry search allocates a thousand items.
	aside *itemAside
	// typ is its resourceType and containedAt where its contained array
	// starts (-1: none), when scanned, so findContained need not search
	// its bytes again.
	typ         string
	containedAt int
	// edits are what itemEdits made of it (edited), kept for a second
	// rendering (stream.go).
	edits []fjson.Edit
	// The flags, side by side (each alone took a word):
	//
	// inheritedPatient: a contained resource naming no patient of its own,
	// which takes its container's (settleContained).
	inheritedPatient bool
	// narrativeWithheld: a Patient's narrative names a Part 2 program and
	// the caller may not learn of an enrolment (decideNarratives).
	narrativeWithheld bool
	// scanned says collect walked its top-level members (typ and
	// containedAt are known).
	scanned bool
	// edited: edits are made (itemEdits).
	edited bool
}

// itemAside is what few items of a response have (item.aside).
type itemAside struct {
	// inBundle are the labels of the stored Bundles it is an entry of
	// (bundleLabels: labels.BundleLabels), which are its own too
	// (labels.Result.InBundle).
	inBundle labels.Set
	// enrolment are the elements of a Patient that name a Part 2 program
	// (enrolment.go), with what would tell the program in its narrative.
	enrolment []enrolmentElement
	// extra are the classes of its kept elements other than its own, whose
	// obligations and notices it carries.
	extra []*class
}

// withAside returns it.aside to fill in, made the first time.
func (it *item) withAside() *itemAside {
	if it.aside == nil {
		it.aside = &itemAside{}
	}
	return it.aside
}

// inBundle returns the labels of the stored Bundles it is an entry of
// (itemAside.inBundle).
func (it *item) inBundle() labels.Set {
	if it.aside == nil {
		return nil
	}
	return it.aside.inBundle
}

// enrolment returns the elements of a Patient that name a Part 2 program
// (itemAside.enrolment).
func (it *item) enrolment() []enrolmentElement {
	if it.aside == nil {
		return nil
	}
	return it.aside.enrolment
}

// extra returns the classes of its kept elements other than its own
// (itemAside.extra).
func (it *item) extra() []*class {
	if it.aside == nil {
		return nil
	}
	return it.aside.extra
}

// class is one decision class: the items of a response that share patient,
// type, label set and source get one evaluation.
type class struct {
	patient string
	// self: the caller is patient, reading their own record (selfAccess);
	// the policy input's caller_is_patient.
	self     bool
	typ      string
	labels   labels.Set
	decision policy.Decision
	// obligations are decision.Obligations as labels, parsed once
	// (obligationLabels).
	obligations labels.Set
	parsed      bool
	// rules are the names of the rules decision.Reasons cite, once
	// (withheldRules).
	rules       []string
	rulesParsed bool
}

// withheldRules names the rules that withheld the class's items, for their
// ledger entry (audit.Item.Reasons): each rule once, in the decision's
// order. One list per class, shared by its items (canonicalItems copies).
func (c *class) withheldRules() []string {
	if !c.rulesParsed {
		for _, r := range c.decision.Reasons {
			if r.Rule != "" && !slices.Contains(c.rules, r.Rule) {
				c.rules = append(c.rules, r.Rule)
			}
		}
		c.rulesParsed = true
	}
	return c.rules
}

// overrodeConsent reports whether the class's decision is an emergency
// disclosure that overrode a consent of the patient denying it.
func (c *class) overrodeConsent() bool {
	return c.decision.BreakGlass && slices.Contains(c.withheldRules(), overriddenConsentRule)
}

// obligationLabels returns the labels the class's decision adds.
func (c *class) obligationLabels() labels.Set {
	if !c.parsed {
		c.obligations, c.parsed = parseLabels(c.decision.Obligations), true
	}
	return c.obligations
}

type span struct{ start, end int }

// member is one key of a JSON object: from its key's opening quote to the
// end of its value.
type member struct {
	start, vStart, end int
}

type bundleNode struct {
	start, end int
	searchset  bool // the response's own Bundle, of type searchset
	typ        string
	members    []member
	entryIdx   int // index in members, -1 when absent
	totalIdx   int
	metaIdx    int
	// signatureIdx is Bundle.signature's index in members, -1 when
	// absent (bundleChanged).
	signatureIdx int
	anchor       span // value of id or resourceType, whichever is last: a new meta goes after it
	// idAt is the value of its id ({0, 0} when absent): a Bundle version
	// of a type or system history is judged by its current version
	// (history_bundles.go).
	idAt span
	// gone: a version of a stored Bundle whose current version the
	// caller may not read, left out whole (keptEntries).
	gone      bool
	hasPaging bool
	linkURLs  []span
	entries   []*entryNode
	withheld  int
	// splices are the changes renderBundle made to the Bundle's own
	// members (planned), kept for a second rendering (stream.go).
	splices []splice
	planned bool
	// paged is a batch entry's search answered as the same search sent
	// on its own, in the proxy's page windows (refill.go
	// pageEntrySearches): rendered in its place.
	paged *entryPage
}

type entryNode struct {
	start, end int
	fullURL    span
	item       *item
	nested     *bundleNode
	// parts are the values of search, response and request, read when
	// needed (entries.go: entryParts) into partsErr, notMatch and ans.
	parts    [3]span
	partsErr error
	parsed   bool // entryParts read them
	notMatch bool // search.mode is there and is not match
	kept     bool // keptEntries keeps it (refill.go: markKept)
	// ans is what its response and request members say (answer), nil
	// when it has neither: a searchset's entries carry none of it.
	ans *entryAnswer
}

// entryAnswer is what entryParts reads of an entry's response and request
// members: only a batch or transaction response's entries and a history's
// have them, so an entry node keeps it apart (entryNode.ans) rather than
// give each entry of a 1,000-entry search 112 bytes it never uses.
type entryAnswer struct {
	status  string // response.status
	outcome span   // response.outcome, {-1,-1} when absent
	ref     string // "Type/id" of request.url, for entries without a resource
	// response.location, etag and lastModified, for a written entry
	// whose result is withheld (entries.go: writtenEntry).
	location, etag, lastModified string
	// locationAt is response.location's value, {-1,-1} when absent:
	// rewritten to the proxy's base as fullUrl is (writeEntry).
	locationAt span
}

// answer returns what e's response and request members say, as read by
// entryParts: nothing (no status, no outcome, no location) for an entry
// without them. A copy, made afresh for an entry without: no run's answer
// is shared with another.
func (e *entryNode) answer() entryAnswer {
	if e.ans == nil {
		return entryAnswer{outcome: span{-1, -1}, locationAt: span{-1, -1}}
	}
	return *e.ans
}

// run is one response going through the pipeline.
type run struct {
	s    *Server
	ex   *exchange
	body []byte
	// valid: every byte of body was checked (fjson.Validate, or the
	// checked walk), so later stages need not check its JSON again
	// (fjson.SkipValid, labels.LabelAllValid).
	valid bool
	// checked: collect checks the body as fjson.Validate would while it
	// walks it (check; jd is the depth of the object or array it is in),
	// and labels each resource as it finds it, checking its JSON in the
	// same walk (labels.Batch.AddChecked); see collectChecked.
	checked  bool
	check    fjson.Checker
	jd       int
	batch    *labels.Batch
	items    []*item
	classes  map[string]*class
	consents map[string]patientConsents
	refs     map[string]audit.ConsentRef
	// entryReqs are the requests of the batch or transaction the body
	// answers, read once (entryReqsRead) when a searchset or history
	// entry asks whether it answers a search (entryAnswersSearch).
	entryReqs     []batchEntryRequest
	entryReqsRead bool
	// revisions are the policy revisions whose decisions this run used,
	// each once, in the order first used (policyRevision).
	revisions []string
	// rulesRev is the label rules revision when the run started
	// (rulesRevision).
	rulesRev string
	// enrolmentCut: a Patient's Part 2 enrolment was cut in this response
	// or an earlier page of its search (withholdProgramDirectory); the
	// response's page links carry it on (paging.go).
	enrolmentCut bool
	// enrolmentShown: the Patient of a Patient/x/$everything was disclosed
	// in this response, or an earlier page of it, with its enrolment
	// members (when it has any) kept.
	enrolmentShown bool
	withheld       int
	// bundleAt names the Bundle whose entries collect walks: one more than
	// its start in the body, the same in the walk's parts (parts.go), so
	// that the copies of one stored Bundle share it and those of another
	// do not (labels.Result.CopyIn).
	bundleAt int
	// targets are the reference targets a simulation (ex.explain) read
	// from the upstream to label its items (targetFetcher).
	targets [][]byte
	// page is what a windowed page's links say (refill.go), nil for any
	// other response; merged are the upstream pages after the run's own
	// whose entries its page also holds.
	page   *pageRender
	merged []*pagedRun
	// entry: the run renders a batch entry's search into the batch's
	// answer (refill.go pageEntrySearches), never streamed; entryNotices
	// are the notices of such searches in the batch's run.
	entry        bool
	entryNotices []policy.Notice
	// noLinks: the run renders a batch entry's search whose answer in
	// the batch had no links (refill.go pageEntrySearches): its page
	// has none either.
	noLinks bool
	// notices are the policy's notices (42 CFR 2.32) for what the response
	// discloses (decide.go).
	notices []policy.Notice
	// alloc.go: slabs for items and entries, interned type names, the
	// public base as JSON string content.
	itemSlab  []item
	entrySlab []entryNode
	ansSlab   []entryAnswer
	typeNames map[string]string
	pubEsc    []byte
	keyBuf    []byte // decide.go: class keys
	labelStr  map[labels.Label]string
	strSlab   []string
	classSlab []class
	strChunk  strings.Builder // runString
	// priorBundles are the current versions of the stored Bundles with a
	// version on a type or system history page of the body, by id
	// (history_bundles.go); nil for any other body.
	priorBundles bundleCurrents
	// sink, while a Bundle is rendered in chunks (stream.go), takes each
	// chunk of the output.
	sink func([]byte) error
	// rootWalked: collectBundle walked the body's root Bundle, whose
	// link members (rootLinks of them) it saw, the last one's value at
	// rootLinkAt; upstreamLinks reads them instead of looking the member
	// up again past every entry.
	rootWalked bool
	rootLinks  int
	rootLinkAt int
}

// process labels, decides, enforces and records one upstream JSON body and
// returns the bytes the caller may see. notFound means the whole response is
// a single resource the caller may not see: answer exactly as for a missing
// one.
func (s *Server) process(ctx context.Context, ex *exchange, body []byte) (out []byte, st *stream, notFound bool, err error) {
	ctx, span := tracer.Start(ctx, "proxy.pipeline.process")
	defer endSpan(span, &err)
	span.SetAttributes(attribute.Int("ds4p.body_bytes", len(body)))
	r, root, single, err := s.judge(ctx, ex, body)
	if err != nil {
		return nil, nil, false, err
	}
	span.SetAttributes(attribute.Int("ds4p.items", len(r.items)), attribute.Int("ds4p.classes", len(r.classes)))
	if root != nil && r.windowed(root) {
		// A page of a search or history: shown in the proxy's own page
		// windows, refilled from the pages after it (refill.go).
		return r.processPage(ctx, root)
	}
	if root != nil && r.ex.req.Interaction == Batch && isResponseBundle(root.typ) {
		// A batch entry's search that pages: in the same windows
		// (refill.go).
		if err := r.pageEntrySearches(ctx, root); err != nil {
			return nil, nil, false, err
		}
	}
	return r.finish(ctx, root, single)
}

// finish renders and records a judged run: its root Bundle, or its single
// resource, or the body as it came.
func (r *run) finish(ctx context.Context, root *bundleNode, single *item) (out []byte, st *stream, notFound bool, err error) {
	defer func() {
		// The metric, log line and event of an emergency disclosure
		// (decide.go), once it is recorded: a response withheld because
		// its ledger entries could not be written made no disclosure and
		// has no 2.51 record for a reviewer to find.
		if err == nil {
			r.noteBreakGlass(ctx)
		}
	}()
	// Policy obligation: notices go out with what they cover (decide.go).
	r.notices = r.withEntryNotices(r.withExtraNotices(r.disclosedNotices())) // refill.go: a batch entry's paged search
	r.ex.notices = noticeHeaderValues(r.notices)
	if single != nil && !single.class.decision.Permitted() {
		r.withheld = 1
		return nil, nil, true, r.record(ctx)
	}
	if root != nil && root.typ == "document" && documentWithheld(root) {
		// A document Bundle (a stored one read, $document) whose
		// Composition is withheld: as missing, not an empty shell.
		r.withheld = r.totalWithheld()
		return nil, nil, true, r.record(ctx)
	}
	if root != nil && r.ex.req.Interaction == History && r.ex.req.ID != "" && r.ex.req.Type != "Bundle" && r.totalWithheld() > 0 && !r.anyDisclosed() {
		// The history of one resource, every version withheld: as missing.
		// A stored Bundle's versions are not withheld, only their entries
		// are, as its read cuts them (guardStoredBundle found that read
		// not missing): its history answered 404 where its read answers
		// 200, telling that it holds what the caller may not see (QA
		// round 38, area E).
		r.withheld = r.totalWithheld()
		return nil, nil, true, r.record(ctx)
	}
	if root != nil && !r.entry && r.s.streams(len(r.body)) {
		// Rendered once now, to check it, and again to the caller
		// (stream.go).
		if st, err = r.planStream(root); err != nil {
			return nil, nil, false, err
		}
		return nil, st, false, r.record(ctx)
	}
	if root != nil {
		out, err = r.renderBundle(outBuffer(len(r.body)+len(r.body)/16), root)
	} else if single != nil {
		out, err = r.renderItem(outBuffer(len(r.body)+256), single)
	} else {
		out = r.body
	}
	if err != nil {
		return nil, nil, false, err
	}
	return out, nil, false, r.record(ctx)
}

// judge labels and decides one upstream body and applies every decision
// to its items: what process does before it renders and records.
func (s *Server) judge(ctx context.Context, ex *exchange, body []byte) (*run, *bundleNode, *item, error) {
	r, root, single, err := s.collectLabelled(ctx, ex, body)
	if err != nil {
		return nil, nil, nil, err
	}
	// The Bundle versions of a type or system history are labelled by
	// their current versions, read now that collect found them; labels
	// are given as collect walks, so it walks again with them
	// (history_bundles.go). No such page reads or walks anything more.
	prior, f := r.currentBundles(ctx, root)
	if f != nil {
		return nil, nil, nil, f
	}
	if prior.labelled() {
		if r, root, single, err = s.collectLabelledWith(ctx, ex, body, prior); err != nil {
			return nil, nil, nil, err
		}
	}
	r.priorBundles = prior
	if root != nil && r.ex.req.Interaction == Search && r.historyRoot(root) {
		// A history's page the upstream names by a handle at its base
		// (HAPI FHIR's ?_getpages=), followed by its page token, is
		// routed as a search of the base: its versions may be older
		// than the current ones too (settleLabels). Condition/c1 at
		// version 1 (HIV) on the second page of Condition/_history
		// stood for its current version (HIV and SUD) in the label
		// cache (QA round 38, area I).
		for _, it := range r.items {
			r.s.labeller.NotCurrent(it.res.Type, it.res.ID)
		}
	}
	if err := r.settleLabels(ctx); err != nil {
		return nil, nil, nil, err
	}
	if err := r.decide(ctx); err != nil {
		return nil, nil, nil, err
	}
	if err := r.decideContained(ctx); err != nil {
		return nil, nil, nil, err
	}
	r.withholdSiblingVersions(root)
	withholdDocuments(root)
	if err := r.withholdVersionsOfWithheld(ctx, root); err != nil { // history_current.go
		return nil, nil, nil, err
	}
	r.withholdBundleVersions(root) // history_bundles.go
	r.applyRedactDecisions()
	if err := r.withholdUninspectable(); err != nil {
		return nil, nil, nil, err
	}
	if err := r.withholdOrphanIncludes(root); err != nil { // includes.go
		return nil, nil, nil, err
	}
	if err := r.decideElements(ctx); err != nil {
		return nil, nil, nil, err
	}
	if err := r.withholdCutMatches(root); err != nil { // redact.go
		return nil, nil, nil, err
	}
	if err := r.decideNarratives(ctx); err != nil { // enrolment.go
		return nil, nil, nil, err
	}
	r.withholdProgramDirectory(root) // enrolment.go
	if err := r.cutDocumentSections(root); err != nil {
		return nil, nil, nil, err
	}
	return r, root, single, nil
}

// newRun starts the pipeline run of one body.
func (s *Server) newRun(ex *exchange, body []byte) *run {
	return &run{s: s, ex: ex, body: body, classes: map[string]*class{}, consents: map[string]patientConsents{}, refs: map[string]audit.ConsentRef{},
		rulesRev: s.labeller.Revision()}
}

// rulesRevision names the label rules that labelled the run's items: the
// revision when it started, or that one and the one in force now when the
// rules were reloaded while it labelled (some items may have been labelled
// under either).
func (r *run) rulesRevision() string {
	now := r.s.labeller.Revision()
	if r.rulesRev == "" || r.rulesRev == now {
		return now
	}
	return r.rulesRev + "," + now
}

// checkedFallbacks counts the bodies the checked walk refused and the
// validating path then accepted: none, unless the two disagree (a test
// reads it).
var checkedFallbacks atomic.Int64

// collectLabelled finds and labels every resource of the body, and checks
// that the body is valid JSON (fjson.Validate's rules: grammar, UTF-8,
// nesting, duplicate keys) before anything of it is decided or released.
//
// It reads the body once: collect checks the Bundles and entries around
// the resources as it walks them, and labels each resource where it finds
// it, checking its JSON in the same walk (collectChecked). When that
// refuses the body, the body
// goes the validating way instead, as it always did: fjson.Validate
// whole, then collect and label (labelItems). So a body is refused exactly
// when, and with the answer that, it was refused before; the checked walk
// only decides how fast a good body goes through.
func (s *Server) collectLabelled(ctx context.Context, ex *exchange, body []byte) (*run, *bundleNode, *item, error) {
	return s.collectLabelledWith(ctx, ex, body, nil)
}

// collectLabelledWith is collectLabelled giving the Bundle versions of a
// type or system history the labels of their current versions, prior
// (history_bundles.go).
func (s *Server) collectLabelledWith(ctx context.Context, ex *exchange, body []byte, prior bundleCurrents) (*run, *bundleNode, *item, error) {
	ctx, span := tracer.Start(ctx, "proxy.pipeline.labelItems")
	defer span.End()
	r := s.newRun(ex, body)
	r.priorBundles = prior
	root, single, checkedErr := r.collectChecked()
	if checkedErr == nil {
		if err := r.finishChecked(ctx); err != nil {
			return nil, nil, nil, err
		}
		return r, root, single, nil
	}
	if err := fjson.Validate(body, s.opts.MaxJSONDepth); err != nil {
		return nil, nil, nil, fail(http.StatusBadGateway, "processing", "the FHIR server answered with JSON the proxy cannot read", err)
	}
	r = s.newRun(ex, body)
	r.priorBundles = prior
	r.valid = true
	root, single, err := r.collect()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := r.labelBatch(ctx); err != nil {
		return nil, nil, nil, err
	}
	checkedFallbacks.Add(1)
	s.log.Warn("the checked walk refused a body the validating path accepted", "request_id", ex.requestID, "cause", errString(checkedErr))
	return r, root, single, nil
}

// collectChecked is collect that checks the body as it walks it, by
// fjson.Validate's rules: the Bundles and entries around the resources
// through run.check, each resource as labels.Batch.AddChecked labels it;
// it then labels the contained resources. Any error means only that the
// body must go the validating way (collectLabelled). finishChecked then
// completes the labels.
func (r *run) collectChecked() (*bundleNode, *item, error) {
	r.checked, r.batch = true, r.s.labeller.NewBatch()
	r.check.Reset(r.body, r.s.opts.MaxJSONDepth)
	root, single, err := r.collect()
	if err != nil {
		return nil, nil, err
	}
	end := len(r.body)
	if root != nil {
		end = root.end
	} else if single != nil {
		end = single.end
	}
	if fjson.SkipSpace(r.body, end) != len(r.body) {
		return nil, nil, errors.New("data after the body's value")
	}
	r.valid = true // every byte is checked now
	if err := r.findContained(); err != nil {
		return nil, nil, err
	}
	for _, it := range r.items {
		for _, c := range it.contained { // inside it: checked
			if err := r.batch.AddValid(r.body[c.start:c.end], &c.label); err != nil {
				return nil, nil, err
			}
			c.label.ContainedIn(&it.label) // its id is its container's
			c.label.InBundle(r.body[c.start:c.end], it.inBundle())
			c.res = &c.label
		}
		// Its stored Bundle's labels: known once the Bundle's meta is
		// read, which may follow its entries (bundleLabels).
		it.label.InBundle(r.body[it.start:it.end], it.inBundle())
	}
	r.nameByURL(root)
	return root, single, nil
}

// nameByURL names each entry's resource of b (and of the Bundles nested
// in it) by the entry's fullUrl, when that is a urn, for the labeller, so that a reference
// naming another entry by it (urn:uuid:..., as documents, transactions
// and $summary refer) propagates labels as one by Type/id does
// (labels.Batch.NameByURL).
func (r *run) nameByURL(b *bundleNode) {
	if b == nil {
		return
	}
	for _, e := range b.entries {
		if e.item != nil && e.fullURL.start >= 0 {
			// Only a urn: a reference by an absolute URL is read as
			// Type/id already, and a searchset's thousand http fullUrls
			// would cost an index no reference needs.
			// (Looked at as bytes first: a string per entry was one more
			// allocation per entry of every search.)
			// An escaped one is decoded first.
			if raw := r.body[e.fullURL.start:e.fullURL.end]; len(raw) > 5 && (string(raw[1:5]) == "urn:" || bytes.IndexByte(raw, '\\') >= 0) {
				if u, ok := fjson.StringValue(r.body, e.fullURL.start, e.fullURL.end); ok && strings.HasPrefix(u, "urn:") {
					r.batch.NameByURL(u, &e.item.label)
				}
			}
		}
		r.nameByURL(e.nested)
	}
}

// finishChecked completes the labels of a body collectChecked accepted:
// the reference targets neither the body nor the label cache knows are
// read (label_targets.go), then labels propagate and the cache learns the
// batch, as LabelAll does. An error withholds the response.
func (r *run) finishChecked(ctx context.Context) error {
	if err := r.batch.Resolve(r.targetFetcher(ctx)); err != nil {
		return targetsFailed(err)
	}
	r.batch.Finish() // propagation and the label cache, as LabelAll
	for _, it := range r.items {
		it.label = resourceLevel(it.label, it.end-it.start)
		for _, c := range it.contained {
			c.label = c.label.WholeResource()
		}
	}
	return nil
}

// labelChecked labels, checking its JSON, the resource object at start,
// a value in the object or array of depth r.jd (0: it is the body), as
// item it; it returns the index just past it and where its contained
// array starts (-1: none).
func (r *run) labelChecked(it *item, start int) (end, containedAt int, err error) {
	if start >= len(r.body) || r.body[start] != '{' {
		return 0, -1, errors.New("a resource is not an object")
	}
	limit := min(r.s.opts.MaxJSONDepth, fjson.MaxDepth) - r.jd // as fjson.Validate counts
	if end, containedAt, err = r.batch.AddChecked(r.body, start, limit, &it.label); err != nil {
		return 0, -1, err
	}
	it.start, it.end, it.res = start, end, &it.label
	return end, containedAt, nil
}

// collect finds every resource of the body: the body itself, or each entry
// of a Bundle, nested Bundles included.
func (r *run) collect() (*bundleNode, *item, error) {
	rt, err := r.resourceType(0)
	if err != nil {
		return nil, nil, err
	}
	if rt == "Bundle" {
		b, err := r.collectBundle(0, 0)
		if err == nil {
			err = r.bundleLabels(b, 0, nil, -1, nil)
		}
		return b, nil, err
	}
	if rt == "" {
		return nil, nil, fail(http.StatusBadGateway, "processing", "the FHIR server answered with JSON that is not a FHIR resource", nil)
	}
	if r.checked {
		it := r.newItem()
		r.items = append(r.items, it)
		_, containedAt, err := r.labelChecked(it, fjson.SkipSpace(r.body, 0))
		if err != nil {
			return nil, nil, err
		}
		// As for a Bundle's entries: findContained need not search the
		// resource's bytes for its type and contained array again.
		it.scanned, it.typ, it.containedAt = true, rt, containedAt
		return nil, it, nil
	}
	it, err := r.addItem(0, len(r.body))
	return nil, it, err
}

// resourceType reads the resourceType of the object at start. The body was
// validated whole (duplicate keys included), so the first match is the only
// one and the scan stops there; resourceType usually comes first.
func (r *run) resourceType(start int) (string, error) {
	var rt string
	found := false
	fn := func(key []byte, vs int) (int, error) {
		ve, err := r.read(vs)
		if err != nil {
			return 0, err
		}
		if fjson.KeyIs(key, "resourceType") {
			rt, found = r.typeName(vs, ve)
			return ve, errStop
		}
		return ve, nil
	}
	// A read only, never through the checker, which may not stop halfway:
	// the walk that follows checks the object.
	var err error
	if r.valid {
		_, err = fjson.ObjectScanValid(r.body, start, fn)
	} else {
		_, err = fjson.ObjectScan(r.body, start, fn)
	}
	if err != nil && !errors.Is(err, errStop) {
		return "", fail(http.StatusBadGateway, "processing", "the FHIR server answered with JSON that is not a FHIR resource", err)
	}
	if !found {
		return "", nil
	}
	return rt, nil
}

// read is skip without the checker: SkipValid or SkipValue.
func (r *run) read(i int) (int, error) {
	if r.valid {
		return fjson.SkipValid(r.body, i)
	}
	return fjson.SkipValue(r.body, i)
}

// skip returns the index just past the value at or after i of the body:
// by its delimiters alone when the body was validated whole (run.valid),
// through the checker in the checked walk.
func (r *run) skip(i int) (int, error) {
	if r.checked && !r.valid {
		return r.check.Value(i, r.jd)
	}
	if r.valid {
		return fjson.SkipValid(r.body, i)
	}
	return fjson.SkipValue(r.body, i)
}

// scanObject is fjson.ObjectScan over the body, or ObjectScanValid when the
// body was validated whole (run.valid).
func (r *run) scanObject(i int, fn func(key []byte, vs int) (int, error)) (int, error) {
	if r.checked && !r.valid {
		r.jd++
		end, err := r.check.ObjectScan(i, r.jd, fn)
		r.jd--
		return end, err
	}
	if r.valid {
		return fjson.ObjectScanValid(r.body, i, fn)
	}
	return fjson.ObjectScan(r.body, i, fn)
}

// scanArray is fjson.ArrayScan over the body, through the checker in the
// checked walk.
func (r *run) scanArray(i int, fn func(vs int) (int, error)) (int, error) {
	if r.checked && !r.valid {
		r.jd++
		end, err := r.check.ArrayScan(i, r.jd, fn)
		r.jd--
		return end, err
	}
	return fjson.ArrayScan(r.body, i, fn)
}

// addItem records one resource of the body; labelItems labels it later.
func (r *run) addItem(start, end int) (*item, error) {
	start, end = trim(r.body, start, end)
	it := r.newItem()
	it.start, it.end = start, end
	r.items = append(r.items, it)
	return it, nil
}

// collectBundle walks the Bundle at start once: each member's value is
// either descended into (entries, links) or skipped, never both, so a
// resource's bytes are scanned once here.
func (r *run) collectBundle(start, depth int) (*bundleNode, error) {
	if depth > maxBundleNesting {
		return nil, fail(http.StatusBadGateway, "processing", "Bundles nested too deeply", nil)
	}
	start = fjson.SkipSpace(r.body, start)
	b := &bundleNode{start: start, entryIdx: -1, totalIdx: -1, metaIdx: -1, signatureIdx: -1}
	root := depth == 0
	if root {
		r.rootWalked, r.rootLinks = false, 0
	}
	end, err := r.scanObject(start, func(key []byte, vs int) (int, error) {
		name := keyName(key)
		var ve int
		var err error
		switch name {
		case "entry":
			b.entryIdx = len(b.members)
			outer := r.bundleAt
			r.bundleAt = start + 1
			ve, err = r.collectEntries(b, vs, depth)
			r.bundleAt = outer
		case "link":
			if root {
				r.rootLinks++
				r.rootLinkAt = vs
			}
			ve, err = r.collectLinks(b, vs)
		default:
			ve, err = r.skip(vs)
		}
		if err != nil {
			return 0, err
		}
		switch name {
		case "meta":
			b.metaIdx = len(b.members)
		case "id", "resourceType":
			if b.anchor.end < ve {
				b.anchor = span{vs, ve}
			}
			if name == "id" {
				b.idAt = span{vs, ve}
			}
		case "total":
			b.totalIdx = len(b.members)
		case "signature":
			b.signatureIdx = len(b.members)
		case "type":
			t, _ := fjson.StringValue(r.body, vs, ve)
			b.searchset = depth == 0 && t == "searchset"
			b.typ = t
		}
		b.members = append(b.members, member{start: memberStart(r.body, key, vs), vStart: vs, end: ve})
		return ve, nil
	})
	if err != nil {
		return nil, asFailure(err)
	}
	r.rootWalked = root
	b.end = end
	return b, nil
}

func (r *run) collectEntries(b *bundleNode, arr, depth int) (int, error) {
	var ps *parts
	if depth == 0 && r.checked && !r.valid { // a large searchset: in parts (parts.go)
		if ps = r.startParts(arr, r.jd+1); ps != nil {
			defer ps.finish()
		}
	}
	return r.scanArray(arr, func(vs int) (int, error) {
		if ps != nil {
			if e, ok := ps.take(r, vs); ok {
				b.entries = append(b.entries, e)
				return e.end, nil
			}
		}
		e, err := r.collectEntry(vs, depth)
		if err != nil {
			return 0, err
		}
		b.entries = append(b.entries, e)
		return e.end, nil
	})
}

func (r *run) collectEntry(start, depth int) (*entryNode, error) {
	e := r.newEntry()
	*e = entryNode{start: start, fullURL: span{-1, -1}, parts: noParts}
	end, err := r.scanObject(start, func(key []byte, vs int) (int, error) {
		switch name := keyName(key); name {
		case "resource":
			return r.collectResource(e, vs, depth)
		case "fullUrl":
			ve, err := r.skip(vs)
			e.fullURL = span{vs, ve}
			return ve, err
		case "search", "response", "request":
			ve, err := r.skip(vs)
			e.parts[partIndex(name)] = span{vs, ve}
			return ve, err
		}
		return r.skip(vs)
	})
	e.end = end
	return e, err
}

// collectResource records the entry's resource, or walks it when it is a
// Bundle itself; it returns the index just past the resource.
func (r *run) collectResource(e *entryNode, vs, depth int) (int, error) {
	rt, err := r.resourceType(vs)
	if err != nil {
		return 0, err
	}
	if rt == "Bundle" {
		if e.nested, err = r.collectBundle(vs, depth+1); err != nil {
			return 0, err
		}
		return e.nested.end, nil
	}
	copyIn := 0 // the server's
	if r.storedCopy(depth) {
		copyIn = r.bundleAt
	}
	if r.checked { // labelled and checked in one walk
		it := r.newItem()
		r.items = append(r.items, it)
		ve, containedAt, err := r.labelChecked(it, vs)
		if err != nil {
			return 0, err
		}
		if copyIn != 0 {
			it.copyIn = copyIn
			it.label.CopyIn(copyIn)
		}
		e.item = it
		it.scanned, it.typ, it.containedAt = true, rt, containedAt
		return ve, nil
	}
	containedAt := -1
	var ve int
	if r.valid { // one pass over its bytes, no call per member
		ve, containedAt, err = fjson.SkipObjectValid(r.body, vs, "contained")
	} else {
		ve, err = fjson.ObjectScan(r.body, vs, func(key []byte, ms int) (int, error) {
			if fjson.KeyIs(key, "contained") {
				containedAt = ms
			}
			return fjson.SkipValue(r.body, ms)
		})
	}
	if err != nil {
		return 0, err
	}
	e.item, err = r.addItem(vs, ve)
	e.item.scanned, e.item.typ, e.item.containedAt = true, rt, containedAt
	e.item.copyIn = copyIn
	return ve, err
}

// storedCopy reports whether an entry's resource of a Bundle at depth
// (0: the body) is a copy of the resource of its Type/id, not the server's
// resource itself: the entries of a Bundle inside the body, and those of a
// stored Bundle read as the body (Bundle/b1, a Bundle search's). A
// document or collection holds what it held when it was made, perhaps an
// older version, perhaps made up, under the ids of the server's resources;
// noted in the label cache as theirs, a copy of Condition/sud1 without its
// SUD code passed N on to the next order naming Condition/sud1, unread
// (QA round 35, area D), and found in the batch by a search's order naming
// Condition/sud1, it did the same within one response (area E): a copy is
// found only by its own Bundle's references (labels.Result.CopyIn). A
// search's, a history's or a batch's own entries are the server's.
func (r *run) storedCopy(depth int) bool {
	return depth > 0 || (r.ex != nil && r.ex.req.Type == "Bundle")
}

// bundleLabels gives each entry's resource of b, and of the Bundles nested
// in it, the labels b carries of its own when it is a stored Bundle
// (storedBundle), with those of the stored Bundles it is in (outer). A
// document, a collection or a message its EHR labelled as a whole (SUD in
// its meta.security, or confidentiality R), whose entries carry no code a
// rule matches, went to org-b whole, and the high-water mark even removed
// the Bundle's label, as a response Bundle's that its disclosed entries
// do not support (QA round 36, area A). Read once the Bundle is walked:
// its meta may follow its entries. in is the Bundle b is entry at of
// (nil for the body).
func (r *run) bundleLabels(b *bundleNode, depth int, in *bundleNode, at int, outer labels.Set) error {
	own := outer.Union(r.priorVersionLabels(b, depth, in))
	if b.metaIdx >= 0 && r.storedBundle(b, depth, in, at) {
		meta, _ := trim(r.body, b.members[b.metaIdx].vStart, b.members[b.metaIdx].end)
		ls, err := labels.BundleLabels(r.body, meta)
		if err != nil {
			return fail(http.StatusBadGateway, "processing", "a Bundle from the FHIR server could not be labelled", err)
		}
		own = own.Union(ls)
	}
	for i, e := range b.entries {
		switch {
		case e.nested != nil:
			if err := r.bundleLabels(e.nested, depth+1, b, i, own); err != nil {
				return err
			}
		case e.item != nil && len(own) > 0:
			e.item.withAside().inBundle = own
		}
	}
	return nil
}

// priorVersionLabels are the labels the current version of the Bundle a
// vread or an instance history reads carries as a whole
// (guardStoredBundle), for a Bundle b at depth that is a version of it: the
// body of a vread, an entry of the instance's history; or those of b's
// own current version, for b a version on a type or system history page
// (history_bundles.go). An older version
// is judged with them as well as its own, as the current version governs
// what of the resource the caller may see.
func (r *run) priorVersionLabels(b *bundleNode, depth int, in *bundleNode) labels.Set {
	if r.priorBundles != nil && r.versionPage(in, depth-1) {
		return r.priorBundles[r.bundleID(b)].labels // history_bundles.go
	}
	if r.ex == nil || len(r.ex.currentBundle) == 0 || r.ex.req.Type != "Bundle" || r.ex.req.ID == "" {
		return nil
	}
	switch {
	case depth == 0 && r.ex.req.Interaction == VRead,
		depth == 1 && r.ex.req.Interaction == History && in != nil:
		// Whatever type the answer's Bundle says it is: a server that
		// answered Bundle/b1/_history as a searchset or a collection gave
		// org-b v1's entries (QA round 38, area E).
		return r.ex.currentBundle
	}
	return nil
}

// storedBundle reports whether the Bundle b at depth (0: the body), an
// entry of the Bundle in, is a resource the server holds, whose own
// labels are its custodian's (bundleLabels), and not an answer the server
// made (a search's or a history's Bundle, a batch's or a transaction's
// response), whose labels are the server's summary. The body is stored
// when a Bundle is read (Bundle/b1, a vread; storedCopy), or written and
// echoed, unless it is of a response's type; an entry is stored unless it
// is a search's or a history's answer in a batch's or a transaction's
// response (at is its index there). A Bundle the server holds may be of
// any type: a searchset or a history read (GET Bundle/b1) in a batch is
// stored, and one whose entry's request is not known is taken as stored
// (QA round 36, area I: a saved searchset labelled R went to org-b whole
// in a batch, withheld when read alone).
func (r *run) storedBundle(b *bundleNode, depth int, in *bundleNode, at int) bool {
	if depth == 0 {
		if !r.storedCopy(0) {
			return false
		}
		switch r.ex.req.Interaction {
		case Read, VRead:
			return true
		}
		return b.typ != "searchset" && b.typ != "history" && !isResponseBundle(b.typ)
	}
	if !isResponseBundle(in.typ) || (b.typ != "searchset" && b.typ != "history") {
		return true
	}
	return depth != 1 || !r.entryAnswersSearch(at, len(in.entries))
}

// entryAnswersSearch reports whether the body's batch or transaction
// entry at answers a GET that is no read of one resource (a search, a
// history, an operation): its searchset or history is then the server's
// answer. False when the entries' requests are not known or do not line
// up with the response's.
func (r *run) entryAnswersSearch(at, n int) bool {
	if !r.entryReqsRead {
		r.entryReqsRead = true
		if r.ex != nil {
			r.entryReqs, _ = batchEntryRequests(r.ex)
		}
	}
	if len(r.entryReqs) != n || at < 0 || at >= n {
		return false
	}
	er := r.entryReqs[at]
	if !strings.EqualFold(er.Method, http.MethodGet) {
		return false
	}
	path, _, _ := strings.Cut(er.URL, "?")
	req, err := parseFHIRPath(http.MethodGet, path)
	return err == nil && req.Interaction != Read && req.Interaction != VRead
}

// collectLinks notes whether the Bundle pages, and records the whole link
// array as one span: rewriteURL renders it anew with page tokens
// (paging.go).
func (r *run) collectLinks(b *bundleNode, arr int) (int, error) {
	end, err := r.scanArray(arr, func(vs int) (int, error) {
		return r.scanObject(vs, func(key []byte, ks int) (int, error) {
			ke, err := r.skip(ks)
			if err != nil {
				return 0, err
			}
			if keyName(key) == "relation" {
				rel, _ := fjson.StringValue(r.body, ks, ke)
				b.hasPaging = b.hasPaging || pagingRelation(rel)
			}
			return ke, nil
		})
	})
	if err != nil {
		return 0, err
	}
	b.linkURLs = append(b.linkURLs, span{arr, end})
	return end, nil
}

// pagingRelation reports whether a Bundle.link relation says the Bundle is
// one page of more: next, previous (prev) or last, compared as RFC 8288
// compares relation types (in any case), any of several separated by
// white space. A paged Bundle never keeps its total (decrementedTotal).
func pagingRelation(rel string) bool {
	return hasRelation(rel, "next") || hasRelation(rel, "previous") ||
		hasRelation(rel, "prev") || hasRelation(rel, "last")
}

// hasRelation reports whether a Bundle.link relation names the relation
// type want, compared as RFC 8288 compares them (in any case), want being
// any of several separated by white space.
func hasRelation(rel, want string) bool {
	for _, f := range strings.Fields(rel) {
		if strings.EqualFold(f, want) {
			return true
		}
	}
	return false
}

func labelStrings(s labels.Set) []string {
	out := make([]string, len(s))
	for i, l := range s {
		out[i] = l.String()
	}
	return out
}

// renderBundle writes the Bundle with withheld entries removed, links and
// fullUrls pointing at the proxy, labels written, and total dropped unless it
// provably reveals nothing.
func (r *run) renderBundle(dst []byte, b *bundleNode) ([]byte, error) {
	if b.paged != nil { // a batch entry's paged search (refill.go)
		return append(dst, b.paged.out...), nil
	}
	if b.planned { // a streamed Bundle's second rendering (stream.go)
		return applySplices(dst, r.body, b.start, b.end, b.splices)
	}
	ss, err := r.bundleSplices(b)
	if err != nil {
		return nil, err
	}
	// Kept for a second rendering: page links carry freshly minted
	// tokens, which must not change between the two.
	b.splices, b.planned = ss, true
	return applySplices(dst, r.body, b.start, b.end, ss)
}

// bundleSplices are the changes to a Bundle's own members.
func (r *run) bundleSplices(b *bundleNode) ([]splice, error) {
	var ss []splice
	var remove []int
	kept := r.keptEntries(b)
	pageRoot := r.page != nil && b == r.page.root
	if b.entryIdx >= 0 {
		// Policy obligation: a searchset that discloses data a notice
		// covers carries the notice as an outcome entry (decide.go).
		notice := b.searchset && len(r.notices) > 0
		if len(kept) == 0 && !notice && (!pageRoot || r.mergedKept() == 0) {
			remove = append(remove, b.entryIdx)
		} else {
			m := b.members[b.entryIdx]
			vs, ve := trim(r.body, m.vStart, m.end)
			ss = append(ss, splice{start: vs, end: ve, render: func(dst []byte) ([]byte, error) {
				return r.writeEntries(dst, b, kept, notice)
			}})
		}
	}
	if b.totalIdx >= 0 && !r.totalIsSafe(b, len(kept)) {
		if e, ok := r.decrementedTotal(b); ok {
			ss = append(ss, splice{start: e.Start, end: e.End, data: e.Data})
		} else {
			remove = append(remove, b.totalIdx)
		}
	}
	for _, u := range b.linkURLs {
		if pageRoot && r.noLinks { // as the batch's answer had none (refill.go)
			for i, m := range b.members {
				if m.vStart == u.start {
					remove = append(remove, i)
				}
			}
			continue
		}
		if pageRoot { // a windowed page's own links (refill.go)
			start, end := trim(r.body, u.start, u.end)
			links, err := r.windowLinks()
			if err != nil {
				return nil, fail(http.StatusInternalServerError, "exception", "the Bundle's links could not be rewritten; the response was withheld", err)
			}
			ss = append(ss, splice{start: start, end: end, data: links})
			continue
		}
		if e, ok := r.rewriteURL(u); ok {
			ss = append(ss, splice{start: e.Start, end: e.End, data: e.Data})
		}
	}
	if pageRoot && !r.noLinks && len(b.linkURLs) == 0 && r.page.next != nil {
		// An upstream page without links whose window stops before its
		// end: the next link is the proxy's own.
		links, err := r.windowLinks()
		if err != nil {
			return nil, fail(http.StatusInternalServerError, "exception", "the Bundle's links could not be written; the response was withheld", err)
		}
		_, ae := trim(r.body, b.anchor.start, b.anchor.end)
		ss = append(ss, splice{start: ae, end: ae, data: append([]byte(`,"link":`), links...)})
	}
	if b.signatureIdx >= 0 {
		changed, err := r.bundleChanged(b, pageRoot)
		if err != nil {
			return nil, err
		}
		if changed {
			remove = append(remove, b.signatureIdx)
		}
	}
	mark, dropMeta, err := r.bundleMarkEdits(b) // high-water mark of the disclosed entries (label_mark.go)
	if err != nil {
		return nil, err
	}
	if dropMeta {
		remove = append(remove, b.metaIdx)
	}
	ss = appendEdits(ss, mark)
	ss = appendEdits(ss, removeMembers(b.members, remove))
	if len(ss) > 1 {
		slices.SortStableFunc(ss, compareSplices)
	}
	return ss, nil
}

// bundleChanged reports whether anything of b's entries is withheld or
// changed (an entry withheld or answered as missing, a resource cut,
// masked, relabelled, an outcome's text removed), in b or a Bundle nested
// in it, or whether b is a page window of the proxy's own (pageRoot):
// Bundle.signature, which signs the Bundle as the server holds it, then
// goes. A document's signature verifies against its whole content, so a
// caller holding the signer's certificate could test guesses of what was
// withheld (which code, which id) against it, as an attachment's hash
// would let them (attachment.go), and a signature that fails on what was
// delivered would itself say that something was withheld.
func (r *run) bundleChanged(b *bundleNode, pageRoot bool) (bool, error) {
	if pageRoot {
		return true, nil
	}
	for _, e := range b.entries {
		// A response's outcome is read in every Bundle, not only in a
		// batch's: a stored collection or history passed whole otherwise.
		if e.parts[partResponse].start >= 0 && r.entryParts(e).partsErr != nil {
			return false, rewriteFailure(e.partsErr)
		}
		switch {
		case e.nested != nil && e.nested.paged != nil:
			return true, nil // a page window of the proxy's own (refill.go)
		case e.nested != nil:
			if changed, err := r.bundleChanged(e.nested, false); changed || err != nil {
				return changed, err
			}
		case e.item != nil:
			if !e.item.class.decision.Permitted() {
				return true, nil
			}
			edits, err := r.itemEdits(e.item)
			if err != nil || len(edits) > 0 {
				return len(edits) > 0, err
			}
		}
		if isResponseBundle(b.typ) && r.entryGone(e) {
			return true, nil
		}
		if e.ans != nil && e.ans.outcome.start >= 0 {
			return true, nil // its text is removed (outcomeEdits)
		}
	}
	return len(r.keptEntries(b)) != len(b.entries), nil
}

// totalIsSafe reports whether Bundle.total can stay: only when nothing was
// withheld anywhere in the response, the Bundle is one complete page, and
// total equals the entries it holds. Anything else could count what the
// caller may not see (including _summary=count).
func (r *run) totalIsSafe(b *bundleNode, kept int) bool {
	if r.totalWithheld() > 0 || b.hasPaging {
		return false
	}
	m := b.members[b.totalIdx]
	vs, ve := trim(r.body, m.vStart, m.end)
	return strings.TrimSpace(string(r.body[vs:ve])) == fmt.Sprint(kept)
}

func (r *run) anyDisclosed() bool {
	for _, it := range r.items {
		if it.class.decision.Permitted() {
			return true
		}
	}
	return false
}

// disclosedWhole reports whether every item of the run is disclosed,
// nothing of it redacted or masked.
func (r *run) disclosedWhole() bool {
	for _, it := range r.items {
		if !it.class.decision.Permitted() || len(it.redacted)+len(it.masked) > 0 {
			return false
		}
	}
	return true
}

func (r *run) totalWithheld() int {
	n := 0
	for _, it := range r.items {
		if !it.class.decision.Permitted() {
			n++
		}
	}
	return n
}

// keptEntries are the entries that stay: every entry but those whose
// resource was withheld (nested Bundles stay, minus their own withheld
// entries).
//
// In a batch-response or transaction-response a withheld entry is not
// removed but answered as a missing resource (entryGone), since entries
// match the request's entries by position. In a history Bundle an entry
// without a resource (a deletion) stays only when the same resource has a
// disclosed version in the Bundle: it would otherwise name a resource the
// caller may not see.
func (r *run) keptEntries(b *bundleNode) []*entryNode {
	kept := make([]*entryNode, 0, len(b.entries))
	responses := isResponseBundle(b.typ)
	var visible map[string]bool
	for _, e := range b.entries {
		if e.item != nil && !e.item.class.decision.Permitted() && !responses {
			continue
		}
		if e.nested != nil && (e.nested.gone || e.nested.typ == "document" && documentWithheld(e.nested)) && !responses {
			continue // a document whose Composition is withheld goes whole (withholdDocuments), as does a version of a Bundle the caller may not read (history_bundles.go)
		}
		if b.typ == "history" && e.item == nil && e.nested == nil {
			if visible == nil {
				visible = r.disclosedRefs(b)
			}
			if !visible[r.entryParts(e).answer().ref] {
				continue
			}
		}
		kept = append(kept, e)
	}
	return kept
}

// writeEntries appends the new entry array: the kept entries, each written
// straight into dst, and the notice entry when one is due.
func (r *run) writeEntries(dst []byte, b *bundleNode, kept []*entryNode, notice bool) ([]byte, error) {
	if r.page != nil && b == r.page.root && len(r.merged) > 0 {
		// A page refilled from the upstream pages after its own, each
		// entry rendered by its own page's run (refill.go).
		return r.writeRefilled(dst, b, kept, notice)
	}
	dst = append(dst, '[')
	var err error
	responses := isResponseBundle(b.typ)
	for i, e := range kept {
		if i > 0 {
			dst = append(dst, ',')
		}
		if responses && r.entryGone(e) {
			if w, ok := r.writtenEntry(b, i, e); ok {
				dst = append(dst, w...)
				continue
			}
			dst = append(dst, goneEntry...)
			continue
		}
		if dst, err = r.writeEntry(dst, e); err != nil {
			return nil, err
		}
		if dst, err = r.flushChunk(dst); err != nil { // a streamed output (stream.go)
			return nil, err
		}
	}
	n := len(kept)
	if notice {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, noticeEntry(r.notices)...)
	}
	return append(dst, ']'), nil
}

func (r *run) writeEntry(dst []byte, e *entryNode) ([]byte, error) {
	var buf [8]splice // on the stack: most entries need one or two splices
	ss := buf[:0]
	if e.fullURL.start >= 0 {
		if sp, ok, fast := r.rawURLSplice(e.fullURL); fast {
			if ok {
				ss = append(ss, sp)
			}
		} else if ed, ok := r.rewriteURL(e.fullURL); ok {
			ss = append(ss, splice{start: ed.Start, end: ed.End, data: ed.Data})
		}
	}
	if e.parts[partResponse].start >= 0 && r.entryParts(e).partsErr != nil {
		return nil, rewriteFailure(e.partsErr)
	}
	if a := e.ans; a != nil && a.locationAt.start >= 0 {
		// A history or batch entry's response.location names the
		// upstream's address as fullUrl does (Condition/x/_history/2
		// written under its base): rewritten to the proxy's base.
		if ed, ok := r.rewriteURL(a.locationAt); ok {
			ss = append(ss, splice{start: ed.Start, end: ed.End, data: ed.Data})
		}
	}
	if a := e.ans; a != nil && a.outcome.start >= 0 {
		oe, err := outcomeEdits(r.body, a.outcome.start, a.outcome.end)
		if err != nil {
			return nil, err
		}
		ss = appendEdits(ss, oe)
	}
	switch {
	case e.nested != nil:
		nested := e.nested
		ss = append(ss, splice{start: nested.start, end: nested.end, render: func(dst []byte) ([]byte, error) {
			return r.renderBundle(dst, nested)
		}})
	case e.item != nil:
		ie, err := r.itemEdits(e.item)
		if err != nil {
			return nil, err
		}
		ss = appendEdits(ss, ie)
	}
	return applySplices(dst, r.body, e.start, e.end, ss)
}

func (r *run) renderItem(dst []byte, it *item) ([]byte, error) {
	edits, err := r.itemEdits(it)
	if err != nil {
		return nil, err
	}
	dst = append(dst, r.body[:it.start]...)
	dst = applyRange(dst, r.body, it.start, it.end, edits)
	return append(dst, r.body[it.end:]...), nil
}

func parseLabels(ss []string) labels.Set {
	var ls []labels.Label
	for _, s := range ss {
		if i := strings.LastIndexByte(s, '|'); i > 0 {
			ls = append(ls, labels.Label{System: s[:i], Code: s[i+1:]})
		}
	}
	return labels.NewSet(ls...)
}

// rewriteURL points a URL string value that starts with the upstream base at
// the proxy's base instead. Given a Bundle's link array (collectLinks), it
// renders the array with page tokens (paging.go); if that fails, the links
// are dropped rather than left pointing at the upstream.
func (r *run) rewriteURL(u span) (fjson.Edit, bool) {
	start, end := trim(r.body, u.start, u.end)
	if start < end && r.body[start] == '[' {
		links, err := r.pageLinks(start, end)
		if err != nil {
			r.s.log.Warn("page links dropped", "request_id", r.ex.requestID, "cause", errString(err))
			links = []byte("[]")
		}
		return fjson.Edit{Start: start, End: end, Data: links}, true
	}
	if e, ok, fast := r.rewriteRawURL(start, end); fast {
		return e, ok
	}
	s, ok := fjson.StringValue(r.body, u.start, u.end)
	if !ok {
		return fjson.Edit{}, false
	}
	rewritten, ok := r.s.rewriteBase(s, r.ex.publicBase)
	if !ok {
		return fjson.Edit{}, false
	}
	return fjson.Edit{Start: start, End: end, Data: fjson.AppendString(nil, rewritten)}, true
}

// record writes one ledger entry per patient the response touched, durably,
// before the response is released.
func (r *run) record(ctx context.Context) (err error) {
	return r.recordEntries(ctx, r.ledgerEntries(), r.anyDisclosed())
}

// recordEntries writes entries, the ledger entries of a response, durably
// when disclosed (anything of the response is disclosed), before the
// response is released.
func (r *run) recordEntries(ctx context.Context, entries []audit.Entry, disclosed bool) (err error) {
	if len(entries) == 0 {
		return nil
	}
	ctx, span := tracer.Start(ctx, "proxy.pipeline.record")
	defer endSpan(span, &err)
	span.SetAttributes(attribute.Int("ds4p.ledger_entries", len(entries)))
	alert := r.s.bulkCheck(r.ex, entries) // bulk-access detection (bulk.go)
	if alert != nil {
		for i := range entries {
			entries[i].Alert = alert.ID // the flagged ledger entries
		}
	}
	if !disclosed {
		// Nothing leaves, so nothing waits: a withheld resource answers
		// as fast as a missing one, which records nothing, instead of
		// after the ledger's fsync (QA timed 2.6 against 1.9 ms). The
		// entries are written in the background; auditors' queries
		// and a clean stop wait for them (Server.Flush).
		r.s.raiseAlert(ctx, alert)
		r.s.recordWithheld(ctx, r.ex.requestID, entries)
		return nil
	}
	if err := r.s.ledger.Append(ctx, entries...); err != nil {
		// bulkCheck already counted this request and started the caller's
		// window afresh: the alert about the disclosures before it must
		// not be lost with these entries.
		r.s.raiseAlert(ctx, alert)
		return fail(http.StatusInternalServerError, "exception", "the disclosure could not be recorded; the response was withheld", err)
	}
	r.s.raiseAlert(ctx, alert)
	return nil
}

func (r *run) ledgerEntries() []audit.Entry {
	byPatient := map[string]*audit.Entry{}
	var order []string
	// A response about one patient (most are) gets its lists sized at once:
	// a search's thousand items would otherwise be copied through a dozen
	// doublings.
	onePatient, disclosed := true, 0
	for _, it := range r.items {
		onePatient = onePatient && it.res.Patient == r.items[0].res.Patient && len(it.res.Patients) <= 1
		if it.class.decision.Permitted() {
			disclosed++
		}
	}
	revision, rules := r.policyRevision(), r.rulesRevision()
	// A response about several patients (a search over many: the
	// 1,000-entry benchmark's names 200) gets each one's lists carved at
	// their size from one slab of disclosed and one of withheld items,
	// counted as add below will fill them; a list nothing fills stays nil.
	var sizes map[string][2]int
	var dSlab, wSlab []audit.Item
	if !onePatient {
		sizes = map[string][2]int{}
		nd, nw := 0, 0
		count := func(patient string, permitted bool) {
			n := sizes[patient]
			if permitted {
				n[0]++
				nd++
			} else {
				n[1]++
				nw++
			}
			sizes[patient] = n
		}
		for _, it := range r.items {
			permitted := it.class.decision.Permitted()
			if len(it.res.Patients) <= 1 {
				count(it.res.Patient, permitted)
				continue
			}
			for _, p := range it.res.Patients {
				count(p, permitted)
			}
		}
		dSlab, wSlab = make([]audit.Item, nd), make([]audit.Item, nw)
	}
	// An item that names several patients (a Group, an Appointment of
	// two) is recorded in the entry of each: each one's accounting of
	// disclosures must list it, and bulk-access detection counts each.
	add := func(it *item, patient string, ai audit.Item) {
		e, ok := byPatient[patient]
		if !ok {
			e = r.ex.ledgerEntry(ledgerPatient(patient), revision, r.s.directory())
			e.RulesRevision = rules
			if onePatient {
				e.Disclosed = make([]audit.Item, 0, disclosed)
				e.Withheld = make([]audit.Item, 0, len(r.items)-disclosed)
			} else {
				n := sizes[patient]
				if n[0] > 0 {
					e.Disclosed, dSlab = dSlab[:0:n[0]], dSlab[n[0]:]
				}
				if n[1] > 0 {
					e.Withheld, wSlab = wSlab[:0:n[1]], wSlab[n[1]:]
				}
			}
			byPatient[patient] = e
			order = append(order, patient)
		}
		if it.class.decision.Permitted() {
			if disclosedUnderBreakGlass(it) { // policy obligation: the 42 CFR 2.51 record
				e.BreakGlass = r.ex.breakGlassRecord()
				if it.class.overrodeConsent() {
					// The reviewer sees that the patient had refused.
					ai.Reasons = it.class.withheldRules()
				}
			}
			e.Disclosed = append(e.Disclosed, ai)
			if len(it.redacted)+len(it.masked) > 0 {
				e.Redacted = append(e.Redacted, redactedItem(it))
			}
		} else {
			ai.Reasons = it.class.withheldRules()
			e.Withheld = append(e.Withheld, ai)
		}
	}
	for _, it := range r.items {
		ai := audit.Item{Type: it.res.Type, ID: it.res.ID, Version: it.res.VersionID, Labels: r.labelStrings(it.res.Labels)}
		if len(it.res.Patients) <= 1 {
			add(it, it.res.Patient, ai)
			continue
		}
		for _, p := range it.res.Patients {
			add(it, p, ai)
		}
	}
	refs := make([]audit.ConsentRef, 0, len(r.refs))
	for _, ref := range r.refs {
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].ID+refs[i].Version < refs[j].ID+refs[j].Version })
	out := make([]audit.Entry, 0, len(order))
	for _, p := range order {
		e := byPatient[p]
		e.Consents = refs
		out = append(out, *e)
	}
	return out
}

// withholdSiblingVersions withholds, in a history answer, every version of
// a resource one of whose versions is withheld: an older ordinary version
// beside a removed current one would show that a resource which reads as
// missing exists. Within the answer only; another page may still list one.
// A history Bundle inside the answer (a batch entry's Condition/_history,
// a stored history Bundle) is judged so too, on its own entries: QA round
// 26 read a withheld Condition's older ordinary version through a batch.
func (r *run) withholdSiblingVersions(root *bundleNode) {
	if r.ex == nil {
		return
	}
	if root != nil {
		r.withholdNestedSiblings(root, root)
	}
	// The history of one resource is answered only after its current
	// version was read and decided for the caller (guardInstance): a
	// resource the caller may read exists for them, so its withheld older
	// versions go alone, leaving a gap in the version ids as a vread of
	// them does (QA: the history of a readable resource with one SUD
	// version answered 404, which said as much).
	if (r.ex.req.Interaction == History || r.ex.req.Interaction == VRead) && r.ex.req.ID != "" && (r.ex.req.Type != "Bundle" || root == nil) {
		// Only that resource's versions: its current version was
		// decided, no other's. A server answering Condition/c1/_history
		// with an older version of Condition/sud1 too, or
		// Condition/c1/_history/1 with it alone (ordinary then, SUD
		// now), gave it to org-b, which may not read sud1 (QA round 39,
		// area A). A stored Bundle's entries are judged by its current
		// version (guardStoredBundle), but an answer to a Bundle's vread
		// that is no Bundle is another resource's version: a server
		// answering Bundle/b1/_history/1 with sud1's older version gave
		// it to org-b (QA round 39, helper G).
		for _, it := range r.items {
			if it.res.Type != r.ex.req.Type || it.res.ID != r.ex.req.ID {
				it.class = withheldClass(it.class, "version-withheld", "not a version of the resource asked for")
			}
		}
	}
	if (r.ex.req.Interaction == History || r.ex.req.Interaction == VRead) && r.ex.req.ID != "" && r.ex.req.Type == "Bundle" && root != nil {
		// So for a stored Bundle: Bundle/b1/_history/1 answered with
		// Bundle/b2's first version (its Condition 'Opioid use
		// disorder', b2 labelled R since) was judged by b1's current
		// labels and went to org-b whole.
		if r.ex.req.Interaction == VRead {
			if r.bundleID(root) != r.ex.req.ID {
				withholdAll(root)
			}
		} else {
			for _, e := range root.entries {
				switch {
				case e.nested != nil && r.bundleID(e.nested) != r.ex.req.ID:
					e.nested.gone = true
					withholdAll(e.nested)
				case e.item != nil && e.item.class.decision.Permitted():
					e.item.class = withheldClass(e.item.class, "version-withheld", "not a version of the resource asked for")
				}
			}
		}
	}
	if r.ex.req.Interaction != History || r.ex.req.ID != "" {
		return
	}
	withholdSiblings(r.items)
}

// withholdDocuments withholds every entry of each document Bundle in b
// (the response's own, or one nested) whose Composition is withheld. The
// Composition's confidentiality and labels are the document's (FHIR: the
// Composition "is the foundation of the document"): a psychotherapy note
// marked PSYTHPN or R lost its Composition, and the Observations of its
// sections, coded as nothing sensitive, went to the payer and org-b in a
// document Bundle without a Composition, which tells that one was
// withheld (QA round 33, area D).
func withholdDocuments(b *bundleNode) {
	if b == nil {
		return
	}
	if b.typ == "document" && documentWithheld(b) {
		for _, e := range b.entries {
			if e.item != nil && e.item.class.decision.Permitted() {
				e.item.class = withheldClass(e.item.class, "document-withheld", "the document's Composition is withheld")
			}
		}
	}
	for _, e := range b.entries {
		withholdDocuments(e.nested)
	}
}

// documentWithheld reports whether a Composition of the document Bundle
// b is withheld, wherever it stands: a server need not hold to bdl-11, and
// the check of the first entry alone let a document stored with its
// withheld Composition second go without it, its sections' entries to
// the payer and org-b (QA round 33, area E).
func documentWithheld(b *bundleNode) bool {
	for _, e := range b.entries {
		if e.item != nil && e.item.res != nil && e.item.res.Type == "Composition" && !e.item.class.decision.Permitted() {
			return true
		}
	}
	return false
}

// cutDocumentSections cuts, from the disclosed Composition of each
// document Bundle in b, every section entry that refers to a withheld
// entry of the document (by its fullUrl, or by Type/id); the Composition
// is then a cut resource, so its narratives go too (makeItemEdits), as a
// section's text is written from its entries. A document whose
// Composition was disclosed kept, for the payer and org-b, the section
// that named its withheld SUD entry, in its narrative ("Opioid use
// disorder, on buprenorphine" in a Patient/$summary) and by a reference
// no entry answered (QA round 33, area E).
func (r *run) cutDocumentSections(b *bundleNode) error {
	if b == nil {
		return nil
	}
	if b.typ == "document" {
		var comps []*item
		withheld := map[string]bool{}
		for _, e := range b.entries {
			it := e.item
			if it == nil || it.res == nil {
				continue
			}
			if !it.class.decision.Permitted() {
				if it.res.ID != "" {
					withheld[it.res.Type+"/"+it.res.ID] = true
				}
				var u string
				if e.fullURL.start >= 0 && json.Unmarshal(r.body[e.fullURL.start:e.fullURL.end], &u) == nil && u != "" {
					withheld[u] = true
				}
			} else if it.res.Type == "Composition" {
				comps = append(comps, it)
			}
		}
		for _, it := range comps {
			if len(withheld) == 0 {
				break
			}
			if err := r.cutSections(it, it.start, withheld, 0); err != nil {
				return rewriteFailure(err)
			}
		}
	}
	for _, e := range b.entries {
		if err := r.cutDocumentSections(e.nested); err != nil {
			return err
		}
	}
	return nil
}

// cutSections adds to it.redacted each Reference in the object at obj (a
// Composition, or a section, for its nested sections) that names a
// withheld resource: a section's entry, focus and author, and, on the
// Composition, an event's detail and a relatesTo whose target it is
// (QA round 33, area G: a section's focus or an event's detail naming
// the withheld entry by its urn:uuid stayed, with the narratives).
func (r *run) cutSections(it *item, obj int, withheld map[string]bool, depth int) error {
	if depth > 32 {
		return errors.New("a Composition's sections nest too deep")
	}
	if depth == 0 {
		if err := r.cutRefs(it, obj, "event", "detail", withheld); err != nil {
			return err
		}
		err := r.eachObject(obj, "relatesTo", func(es, ee int) error {
			ts, te, ok, err := fjson.Lookup(r.body, es, "targetReference")
			if err != nil || !ok {
				return err
			}
			if r.namesWithheld(ts, te, withheld) {
				it.redacted = append(it.redacted, labels.ElementLabel{Start: es - it.start, End: ee - it.start})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return r.eachObject(obj, "section", func(ss, _ int) error {
		for _, m := range []string{"entry", "focus", "author"} {
			if err := r.cutRefs(it, ss, m, "", withheld); err != nil {
				return err
			}
		}
		return r.cutSections(it, ss, withheld, depth+1)
	})
}

// eachObject calls fn with each object of obj.member: the elements of an
// array, or the member itself when it is one object. FHIR's JSON writes
// a repeating element as an array, but a server may store one object, and
// other readers take it as the array's one element: a Composition whose
// section was an object went out with its reference to the withheld
// entry and its narrative (the section's part was read as nothing). Other
// values (strings, numbers) name no resource and are left.
func (r *run) eachObject(obj int, member string, fn func(s, e int) error) error {
	vs, ve, ok, err := fjson.Lookup(r.body, obj, member)
	if err != nil || !ok {
		return err
	}
	switch r.body[vs] {
	case '[':
		return fjson.ArrayEach(r.body, vs, func(es, ee int) error {
			if r.body[es] != '{' {
				return nil
			}
			return fn(es, ee)
		})
	case '{':
		return fn(vs, ve)
	}
	return nil
}

// cutRefs cuts each Reference at obj.member (an array or one object) that
// names a withheld resource; with sub, the References are at each
// element's sub (Composition.event.detail).
func (r *run) cutRefs(it *item, obj int, member, sub string, withheld map[string]bool) error {
	return r.eachObject(obj, member, func(rs, re int) error {
		if sub != "" {
			return r.cutRefs(it, rs, sub, "", withheld)
		}
		if r.namesWithheld(rs, re, withheld) {
			it.redacted = append(it.redacted, labels.ElementLabel{Start: rs - it.start, End: re - it.start})
		}
		return nil
	})
}

// namesWithheld reports whether the Reference at rs names a withheld
// resource, by its fullUrl, Type/id or an absolute URL ending in Type/id,
// a version (/_history/<v>) after it or not.
func (r *run) namesWithheld(rs, _ int, withheld map[string]bool) bool {
	if r.body[rs] != '{' {
		return false
	}
	v, ve, ok, err := fjson.Lookup(r.body, rs, "reference")
	var ref string
	if err != nil || !ok || json.Unmarshal(r.body[v:ve], &ref) != nil {
		return false
	}
	if k := strings.Index(ref, "/_history/"); k > 0 {
		ref = ref[:k]
	}
	return withheld[ref] || withheldByURL(ref, withheld)
}

// withheldByURL reports whether ref, an absolute URL, ends in the
// Type/id of a withheld resource.
func withheldByURL(ref string, withheld map[string]bool) bool {
	if !strings.Contains(ref, "://") {
		return false
	}
	parts := strings.Split(strings.TrimRight(ref, "/"), "/")
	if n := len(parts); n >= 2 {
		return withheld[parts[n-2]+"/"+parts[n-1]]
	}
	return false
}

// withholdNestedSiblings applies withholdSiblings to the entries of each
// history Bundle in b but root, the response's own, when it answers a
// history request (withholdSiblingVersions judges that one as the request
// asked: the history of one resource keeps its gaps).
func (r *run) withholdNestedSiblings(root, b *bundleNode) {
	if b.typ == "history" && (b != root || r.ex.req.Interaction != History) {
		var its []*item
		for _, e := range b.entries {
			if e.item != nil {
				its = append(its, e.item)
			}
		}
		withholdSiblings(its)
	}
	for _, e := range b.entries {
		if e.nested != nil {
			r.withholdNestedSiblings(root, e.nested)
		}
	}
}

// withholdSiblings withholds every item of its whose resource (Type/id) has
// a withheld item among them.
func withholdSiblings(its []*item) {
	withheld := map[string]bool{}
	for _, it := range its {
		if it.res.ID != "" && !it.class.decision.Permitted() {
			withheld[it.res.Type+"/"+it.res.ID] = true
		}
	}
	if len(withheld) == 0 {
		return
	}
	for _, it := range its {
		if it.class.decision.Permitted() && withheld[it.res.Type+"/"+it.res.ID] {
			it.class = withheldClass(it.class, "version-withheld", "another version of this resource is withheld")
		}
	}
}

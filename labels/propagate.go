package labels

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/fjson"
)

// maxRounds bounds how far Resolve reads chains of references past the
// batch, to resources neither it nor the label cache holds (Observation →
// Encounter → Condition is two), and the rounds propagate and
// linkedPatients make over every link of the batch. A chain in the
// response itself longer still is then followed to its end from the
// resources that changed (propagateRest, linkedPatientsRest): stopped
// after maxRounds, a chain of more than 8 in the response
// (Observation?_include:iterate=Observation:derived-from) left its start
// ordinary, where the same start read alone was withheld (502,
// errChainTooDeep) (QA round 43, helper A).
const maxRounds = 8

// inheritable returns the labels of s that a referring resource inherits:
// confidentiality, and v3-ActCode sensitivity, policy and refrain codes;
// obligations (REDACT, PROCESSINLINELABEL ...) and other systems stay
// with the resource that has them. Like Union, it returns s itself (its
// capacity clipped) when every label of s is inheritable, so that
// propagation allocates nothing for the usual target.
func inheritable(s Set) Set {
	n := 0
	for _, lb := range s {
		if inheritableLabel(lb) {
			n++
		}
	}
	switch n {
	case 0:
		return nil
	case len(s):
		return s[:n:n]
	}
	out := make(Set, 0, n)
	for _, lb := range s {
		if inheritableLabel(lb) {
			out = append(out, lb)
		}
	}
	return out
}

func inheritableLabel(lb Label) bool {
	return isConfidentiality(lb) || (lb.System == SystemActCode && !obligationCodes[lb.Code])
}

// LabelAll labels a batch of resources (the resources of one response)
// and then propagates labels along the references between them, and from
// the cache to them:
//
//   - content references (reasonReference, addresses, basedOn, evidence,
//     hasMember, result, focus, target, derivedFrom, diagnosis, partOf,
//     supportingInfo, detail, entity, concern, activity, investigation,
//     reason, a Binary's securityContext ...: see refMembers): the
//     referring resource inherits every inheritable label of the target
//     (see inheritable), and a Binary its securityContext's patient too
//     (see securityContexts);
//   - context references (encounter, context, episodeOfCare): the
//     referring resource inherits the Part 2 labels of a target that is a
//     Part 2 record, and nothing else.
//
// Labels flow from the target to the resource holding the reference,
// never back. Chains are followed up to 8 references deep. Every resource
// of the batch is then noted in the cache (when the Labeller has one), so
// that later responses inherit from it. The error names the index of a
// resource that could not be labelled.
func (l *Labeller) LabelAll(resources [][]byte) ([]Result, error) {
	return l.labelAll(resources, false)
}

// LabelAllValid is LabelAll for resources that fjson.Validate accepted, each
// on its own or as part of a body it accepted (the proxy validates every
// upstream body whole first). It returns what LabelAll returns, in about
// half the time: the walk no longer checks the JSON a second time, it only
// finds where keys and values end. On input Validate would refuse it never
// panics, but its results are unspecified: use LabelAll there.
func (l *Labeller) LabelAllValid(resources [][]byte) ([]Result, error) {
	return l.labelAll(resources, true)
}

// LabelAllResolving is LabelAll (LabelAllValid when valid) that first asks
// fetch for the targets of references that neither the resources nor the
// label cache know (Batch.Resolve); the results are those of resources
// alone, in order.
func (l *Labeller) LabelAllResolving(resources [][]byte, valid bool, fetch FetchFunc) ([]Result, error) {
	return l.labelAllWith(resources, valid, fetch, nil)
}

// Copy says how a resource LabelAllResolvingCopies labels is not the
// server's resource of its Type/id; the zero Copy is the server's.
type Copy struct {
	// Scope names the stored Bundle it is a copy in (Result.CopyIn), or,
	// Contained, its container's.
	Scope int
	// Contained: a contained resource (Result.ContainedIn).
	Contained bool
	// Labels are those of the stored Bundle it is in (BundleLabels),
	// given to it as Result.InBundle does.
	Labels Set
}

// LabelAllResolvingCopies is LabelAllResolving where the resources k with
// copies[k] not zero are not the server's resources of their Type/id
// (Result.CopyIn, Result.ContainedIn).
func (l *Labeller) LabelAllResolvingCopies(resources [][]byte, valid bool, fetch FetchFunc, copies []Copy) ([]Result, error) {
	return l.labelAllWith(resources, valid, fetch, copies)
}

func (l *Labeller) labelAll(resources [][]byte, valid bool) ([]Result, error) {
	return l.labelAllWith(resources, valid, nil, nil)
}

func (l *Labeller) labelAllWith(resources [][]byte, valid bool, fetch FetchFunc, copies []Copy) ([]Result, error) {
	out := make([]Result, len(resources))
	b := l.newBatch(len(resources))
	for k, res := range resources {
		r, err := l.label(res, &b.arena, &b.strs, &b.reasons, valid)
		if err != nil {
			return nil, fmt.Errorf("labels: resource %d: %w", k, err)
		}
		if k < len(copies) {
			switch c := copies[k]; {
			case c.Contained:
				r.copied, r.unnamed, r.scope = true, true, c.Scope
			case c.Scope != 0:
				r.CopyIn(c.Scope)
			}
			r.InBundle(res, copies[k].Labels)
		}
		out[k] = r
		b.add(res, &out[k])
	}
	if err := b.Resolve(fetch); err != nil {
		return nil, err
	}
	b.Finish()
	return out, nil
}

// Batch labels the resources of one response one at a time, each into a
// Result the caller provides, and then does what LabelAll does for a
// batch: Finish propagates labels between them and from the cache, and
// notes them in the cache. A caller that finds the resources as it reads
// the body labels each as it finds it (AddChecked), checking the JSON in
// the same walk. A Batch is for one goroutine.
type Batch struct {
	l         *Labeller
	resources [][]byte
	out       []*Result
	links     bool
	arena     []link
	strs      strArena
	reasons   []Reason
	check     fjson.Checker
	fetched   []string // "Type/id" of every target Resolve asked for
	gen       uint64   // the cache's generation when Resolve first asked
	rules     uint64   // the cache's rules generation when the batch started
	ix        *batchIndex
	ixLen     int // len(out) when ix was built
	// versions are the labels of the versions that versioned references
	// name (Condition/1/_history/2), read by Resolve, by
	// "Type/id/_history/v": not resources of the batch.
	versions map[string]*Result
	// urls name resources of the batch by the fullUrl of their Bundle
	// entry (NameByURL), for references that name them so.
	urls []namedURL
}

// namedURL is a resource of the batch named by its entry's fullUrl.
type namedURL struct {
	url string
	r   *Result
}

// NameByURL names the batch's resource whose result is r by url, the
// fullUrl of the Bundle entry holding it, before Finish: a reference of
// another resource of the batch that is that URL (urn:uuid:..., the form
// of documents, transactions and $summary) then propagates from it as one
// by Type/id does. Named only by Type/id, a MedicationStatement whose
// reasonReference was urn:uuid:<the SUD Condition> took nothing from it
// and went to org-b (QA round 33, area G).
func (b *Batch) NameByURL(url string, r *Result) {
	if url != "" && r != nil {
		b.urls = append(b.urls, namedURL{url, r})
	}
}

// urlType keys, in a batchIndex, the resources named by a URL (NameByURL):
// no FHIR type is empty.
const urlType = ""

// indexURLs adds the batch's URL names to ix.
func (b *Batch) indexURLs(ix *batchIndex) {
	if len(b.urls) == 0 || ix == nil {
		return
	}
	at := make(map[*Result]int, len(b.out))
	for k, r := range b.out {
		at[r] = k
	}
	for _, n := range b.urls {
		if k, ok := at[n.r]; ok {
			ix.add(n.r, urlType, n.url, k)
		}
	}
}

// NewBatch starts a batch.
func (l *Labeller) NewBatch() *Batch {
	b := &Batch{l: l}
	if l.cache != nil {
		b.rules = l.cache.rulesGen()
	}
	if p, ok := batchLists.Get().(*batchList); ok { // a finished batch's lists, emptied
		b.resources, b.out = p.resources[:0], p.out[:0]
	}
	return b
}

// batchList holds the lists of a finished Batch for the next one: they
// only point into what the batch labelled, and nothing reads them after
// Finish.
type batchList struct {
	resources [][]byte
	out       []*Result
}

var batchLists sync.Pool

// newBatch starts a batch with room for n resources.
func (l *Labeller) newBatch(n int) *Batch {
	b := &Batch{l: l, resources: make([][]byte, 0, n), out: make([]*Result, 0, n), arena: make([]link, 0, 2*n)}
	if l.cache != nil {
		b.rules = l.cache.rulesGen()
	}
	return b
}

// add records the labelled resource res, whose result is at r.
func (b *Batch) add(res []byte, r *Result) {
	b.resources = append(b.resources, res)
	b.out = append(b.out, r)
	b.links = b.links || len(r.links) > 0
}

// Len is how many resources the batch holds.
func (b *Batch) Len() int { return len(b.out) }

// Adopt adds to b, in order, the resources from..to-1 of o as o labelled
// them, as if b had labelled them itself: a body walked in parts, each
// part by its own batch on its own goroutine, is then finished by one
// batch (Finish propagates along references between all of them). o must
// be done with those resources (its goroutine past them, with a
// happens-before edge to the caller); o is not changed.
func (b *Batch) Adopt(o *Batch, from, to int) {
	for i := from; i < to; i++ {
		b.add(o.resources[i], o.out[i])
	}
}

// roomForLinks starts a new link arena when the current one is nearly
// full, doubling from 16 to 512 links, so that a batch of unknown size
// still takes one allocation for the links of many resources, and leaves
// at most one partly used arena behind.
func (b *Batch) roomForLinks() {
	if a := b.arena; cap(a)-len(a) < 16 {
		b.arena = make([]link, 0, min(max(2*cap(a), 16), 512))
	}
}

// AddChecked labels into dst the resource object that starts at
// body[start] (no whitespace before it) and ends at its closing brace, and
// checks every byte of it as fjson.Validate checks a body that holds it:
// grammar, UTF-8, escapes, duplicate keys (escapes decoded), and nesting at
// most maxDepth deep, the resource's own object counting 1. It returns the
// index in body just past the resource and where the value of its
// top-level contained member starts (-1: none). Only when it returns no
// error is the resource valid and dst its result; dst is final only after
// Finish.
func (b *Batch) AddChecked(body []byte, start, maxDepth int, dst *Result) (end, contained int, err error) {
	if start < 0 || start >= len(body) {
		return 0, -1, fmt.Errorf("labels: resource %d: no resource at %d", len(b.out), start)
	}
	b.roomForLinks()
	res := body[start:]
	b.check.Reset(res, maxDepth)
	r, n, c, err := b.l.labelWith(res, &b.arena, &b.strs, &b.reasons, false, &b.check)
	if err != nil {
		return 0, -1, fmt.Errorf("labels: resource %d: %w", len(b.out), err)
	}
	*dst = r
	b.add(res[:n], dst)
	if c >= 0 {
		c += start
	}
	return start + n, c, nil
}

// AddValid labels into dst a resource fjson.Validate accepted, on its own
// or as part of a body or a resource AddChecked checked, as LabelAllValid
// does; dst is final only after Finish.
func (b *Batch) AddValid(resource []byte, dst *Result) error {
	b.roomForLinks()
	r, err := b.l.label(resource, &b.arena, &b.strs, &b.reasons, true)
	if err != nil {
		return fmt.Errorf("labels: resource %d: %w", len(b.out), err)
	}
	*dst = r
	b.add(resource, dst)
	return nil
}

// Finish propagates labels along the references between the resources of
// the batch and from the cache, and notes every resource in the cache, as
// LabelAll does after labelling each. The results are final once it
// returns; the batch is not to be used again.
func (b *Batch) Finish() {
	var ix *batchIndex
	if b.ixLen == len(b.out) { // Resolve's index, and nothing added since
		ix = b.ix
	}
	if b.links && ix == nil {
		ix = indexBatch(b.out) // once, for propagate, securityContexts and linkedPatients
		b.indexURLs(ix)
	}
	if b.links {
		b.l.propagate(b.resources, b.out, ix, b.versions)
	}
	b.l.securityContexts(b.resources, b.out, ix)
	if b.links {
		b.l.linkedPatients(b.resources, b.out, ix)
	}
	if b.l.cache != nil {
		for _, r := range b.out {
			if r.copied {
				continue
			}
			b.l.cache.note(r, b.rules)
		}
		if len(b.fetched) > 0 {
			b.fetched = slices.DeleteFunc(b.fetched, func(k string) bool {
				// A version that took a program from its parents, or labels
				// from its own references (fetchVersions).
				r, ok := b.versions[k]
				return ok && (r.directory != "" || len(inheritable(r.Effective())) > 0)
			})
			b.l.cache.noteKnown(b.fetched, time.Now(), b.gen)
		}
	}
	if cap(b.out) >= 64 && cap(b.out) <= 1<<16 { // lists worth keeping, not a rare giant's
		clear(b.resources)
		clear(b.out)
		batchLists.Put(&batchList{resources: b.resources, out: b.out})
	}
	b.resources, b.out, b.ix, b.urls = nil, nil, nil, nil
}

// batchIndex finds resources of the batch by type and id without
// allocating per lookup (find).
type batchIndex struct {
	// byType are the resources that are the server's, by Type and id (and
	// by URL under urlType: NameByURL).
	byType map[string]map[string]int
	// copies are the copies of stored Bundles (Result.CopyIn), by scope,
	// Type and id; nil when the batch holds none.
	copies map[int]map[string]map[string]int
	// canon are the resources with a canonical url of their own (a
	// Questionnaire's), by that url, built by the first canonical lookup.
	canon      map[string][]int
	canonBuilt bool
	// idents are the directory entries by their own identifiers
	// (Result.idents), built by the first identifier lookup.
	idents      map[string][]int
	identsBuilt bool
}

// canonicalType is the type a canonical target is searched as: the form a
// QuestionnaireResponse answers, or the one a form derives from.
const canonicalType = "Questionnaire"

// canonical returns the resources of the batch other than rs[from] whose
// own canonical is url, of any version: each passes on (another version of
// the form is that form still, and over-labelling is the safe side). ok
// reports whether one is of version v (any, when v is ""): the canonical
// need not be searched for.
func (ix *batchIndex) canonical(rs []*Result, from int, url, v string) (ks []int, ok bool) {
	if ix == nil {
		return nil, false
	}
	if !ix.canonBuilt {
		ix.canonBuilt = true
		for k, r := range rs {
			if r.canonURL != "" {
				if ix.canon == nil {
					ix.canon = map[string][]int{}
				}
				ix.canon[r.canonURL] = append(ix.canon[r.canonURL], k)
			}
		}
	}
	for _, k := range ix.canon[url] {
		if k != from {
			ks = append(ks, k)
			ok = ok || v == "" || rs[k].canonVersion == v
		}
	}
	return ks, ok
}

// identified is the target of an identifier link (link.ident) of rs[from]
// naming key ("system|value"): every directory entry of the batch carrying
// it, each passing on what it stands for.
func (ix *batchIndex) identified(rs []*Result, from int, key string) linkTarget {
	var t linkTarget
	if ix == nil {
		return t
	}
	if !ix.identsBuilt {
		ix.identsBuilt = true
		for k, r := range rs {
			if r.copied || r.unnamed {
				continue
			}
			for _, id := range r.idents {
				if ix.idents == nil {
					ix.idents = map[string][]int{}
				}
				ix.idents[id] = append(ix.idents[id], k)
			}
		}
	}
	for _, m := range ix.idents[key] {
		switch {
		case m == from:
		case !t.ok:
			t = linkTarget{key: []byte(key), k: m, ok: true}
		default:
			if t.aside == nil {
				t.aside = &targetAside{}
			}
			t.aside.more = append(t.aside.more, m)
		}
	}
	return t
}

func indexBatch(rs []*Result) *batchIndex {
	ix := &batchIndex{byType: map[string]map[string]int{}}
	for k := range rs {
		if r := rs[k]; r.Type != "" && r.ID != "" {
			ix.add(r, r.Type, r.ID, k)
		}
	}
	return ix
}

// add indexes rs[k], whose result is r, by typ and id (urlType and its
// URL: NameByURL): a copy among its Bundle's (Result.CopyIn), a contained
// resource nowhere.
func (ix *batchIndex) add(r *Result, typ, id string, k int) {
	if r.unnamed {
		return
	}
	m := ix.byType
	if r.copied {
		if ix.copies == nil {
			ix.copies = map[int]map[string]map[string]int{}
		}
		if m = ix.copies[r.scope]; m == nil {
			m = map[string]map[string]int{}
			ix.copies[r.scope] = m
		}
	}
	byID := m[typ]
	if byID == nil {
		byID = map[string]int{}
		m[typ] = byID
	}
	byID[id] = k
}

// find returns the index of the resource of the batch that a reference of
// rs[from] names by key, "Type/id" (its type typLen long): a copy of the
// same stored Bundle as rs[from] (Result.CopyIn), else a resource that is
// the server's. A copy in another Bundle, or a contained resource, is not
// the server's resource of that Type/id and does not stand for it.
func (ix *batchIndex) find(rs []*Result, from int, key []byte, typLen int) (int, bool) {
	if ix == nil {
		return 0, false
	}
	if ix.copies != nil {
		if s := rs[from].scope; s != 0 {
			if k, ok := ix.copies[s][string(key[:typLen])][string(key[typLen+1:])]; ok {
				return k, true
			}
		}
	}
	k, ok := ix.byType[string(key[:typLen])][string(key[typLen+1:])]
	return k, ok
}

// inherited is what a link's target passes on.
type inherited struct {
	labels  Set
	program string
	// directory: the target is a directory entry standing for this
	// program (Result.directory).
	directory string
}

// linkTarget is a link's target, resolved once per batch: the resource k of
// the batch it names, or (k < 0) what the label cache held for it when
// propagation began, or nothing (ok false). key is "Type/id", for reasons.
type linkTarget struct {
	key []byte
	k   int
	ext inherited
	ok  bool
	// aside is what passes on beside k or ext, nil for most links: a
	// 1,000-entry Bundle resolves a thousand targets and copies each in
	// every round, and few name a version or a canonical.
	aside *targetAside
}

// targetAside is what passes on beside a link's target (linkTarget.aside).
type targetAside struct {
	// old is what the version the reference names passes on, when it is
	// not the one the batch or the cache holds (versions): it passes on
	// beside the current one.
	old inherited
	// oldRes is that version's result: a directory entry's version may
	// take what it stands for from its parents after the target was
	// resolved (parents), so passes reads it then.
	oldRes *Result
	// more are the other resources of the batch a canonical link names
	// (every version of a form): each passes on beside k.
	more []int
}

// old returns what the version t names passes on (targetAside.old),
// nothing when it names none.
func (t linkTarget) old() inherited {
	if t.aside == nil {
		return inherited{}
	}
	return t.aside.old
}

// oldRes returns the result of the version t names (targetAside.oldRes).
func (t linkTarget) oldRes() *Result {
	if t.aside == nil {
		return nil
	}
	return t.aside.oldRes
}

// more returns the other resources of the batch t's canonical names
// (targetAside.more).
func (t linkTarget) more() []int {
	if t.aside == nil {
		return nil
	}
	return t.aside.more
}

// withVersion adds to t what the version link lk of resource b names
// passes on, when Resolve read that version.
func (t linkTarget) withVersion(b []byte, lk link, versions map[string]*Result) linkTarget {
	v := lk.version(b)
	if v == "" {
		return t
	}
	key, typLen := lk.target(b)
	if key == nil {
		return t
	}
	r, ok := versions[versionKey(string(key[:typLen]), string(key[typLen+1:]), v)]
	if !ok {
		return t
	}
	// A directory entry's version stands for the program it named then
	// (QA round 41: a record performed by the program's role at version 2
	// stayed ordinary once the role left the program).
	// A new aside, not the one t came with: t is a copy.
	old := inherited{labels: inheritable(r.Effective()), program: r.Program, directory: r.directory}
	t.aside = &targetAside{old: old, oldRes: r, more: t.more()}
	if !t.ok && (len(old.labels) > 0 || old.directory != "" || directoryTypeTargets[r.Type] || len(r.links) > 0) {
		// A version with references of its own may take labels from them
		// yet (fetchVersions): passes reads it as it is then.
		t.key, t.k, t.ok = key, -1, true
	}
	return t
}

// resolve finds the target of link lk of resource b: in the batch first,
// then in the cache of earlier responses. A canonical link's target is also
// every resource of the batch whose canonical it names.
func (l *Labeller) resolve(ix *batchIndex, rs []*Result, k int, b []byte, lk link) linkTarget {
	if lk.ident {
		return ix.identified(rs, k, lk.decoded)
	}
	t := l.resolveRef(ix, rs, k, b, lk)
	if !lk.canonical {
		return t
	}
	url, v := lk.canonicalOf(b)
	ks, _ := ix.canonical(rs, k, url, v)
	for _, m := range ks {
		switch {
		case !t.ok:
			t = linkTarget{key: []byte(url), k: m, ok: true}
		case m != t.k:
			if t.aside == nil {
				t.aside = &targetAside{}
			}
			t.aside.more = append(t.aside.more, m)
		}
	}
	return t
}

// resolveRef finds the target of link lk of resource b read as a
// reference.
func (l *Labeller) resolveRef(ix *batchIndex, rs []*Result, k int, b []byte, lk link) linkTarget {
	key, typLen := lk.target(b)
	if key == nil {
		// Not Type/id: perhaps another entry's fullUrl (NameByURL), of
		// the same Bundle when rs[k] is a copy in one: two documents of
		// one response may use the same urn:uuid, each for its own entry.
		var inScope map[string]int
		if s := rs[k].scope; s != 0 && ix.copies != nil {
			inScope = ix.copies[s][urlType]
		}
		if byURL := ix.byType[urlType]; byURL != nil || inScope != nil {
			ref := lk.decoded
			if ref == "" {
				ref = string(b[lk.start:lk.end])
			}
			url := strings.TrimSpace(ref)
			if t, ok := inScope[url]; ok {
				return linkTarget{key: []byte(ref), k: t, ok: true}
			}
			if t, ok := byURL[url]; ok {
				return linkTarget{key: []byte(ref), k: t, ok: true}
			}
		}
		return linkTarget{}
	}
	if t, ok := ix.find(rs, k, key, typLen); ok {
		return linkTarget{key: key, k: t, ok: true}
	}
	if l.cache != nil {
		if e, ok := l.cache.get(key); ok {
			return linkTarget{key: key, k: -1, ext: inherited{labels: e.labels, program: e.program, directory: e.directory}, ok: true}
		}
	}
	return linkTarget{}
}

// passes returns what target t passes on now: a resource of the batch may
// have gained labels in an earlier round.
func (t linkTarget) passes(rs []*Result) inherited {
	in := t.ext
	if t.k >= 0 {
		in = inherited{labels: inheritable(rs[t.k].Effective()), program: rs[t.k].Program, directory: rs[t.k].directory}
	}
	for _, m := range t.more() {
		in.labels = in.labels.Union(inheritable(rs[m].Effective()))
		if in.program == "" {
			in.program = rs[m].Program
		}
		if in.directory == "" {
			in.directory = rs[m].directory // another entry carrying the identifier (link.ident)
		}
	}
	old := t.old()
	if len(old.labels) > 0 {
		in.labels = in.labels.Union(old.labels)
		if in.program == "" {
			in.program = old.program
		}
	}
	if in.directory == "" {
		in.directory = old.directory
	}
	if or := t.oldRes(); or != nil {
		// The version as it is now: one in the batch takes what it stands
		// for and its labels from its own references (fetchVersions).
		in.labels = in.labels.Union(inheritable(or.Effective()))
		if in.program == "" {
			in.program = or.Program
		}
		if in.directory == "" {
			in.directory = or.directory
		}
	}
	return in
}

// propagate runs the rounds of LabelAll's propagation. Each link's target
// is resolved once, before the rounds: a round then only reads what the
// target passes on (its reference is not parsed, nor looked up, again).
func (l *Labeller) propagate(resources [][]byte, rs []*Result, ix *batchIndex, versions map[string]*Result) {
	n := 0
	for _, r := range rs {
		n += len(r.links)
	}
	if n == 0 {
		return
	}
	if ix == nil {
		ix = indexBatch(rs)
	}
	targets := make([]linkTarget, 0, n)
	for k, r := range rs {
		for _, lk := range r.links {
			t := l.resolve(ix, rs, k, resources[k], lk)
			if len(versions) > 0 {
				t = t.withVersion(resources[k], lk, versions)
			}
			targets = append(targets, t)
		}
	}
	l.parents(resources, rs, targets)
	changed := true
	for round := 0; changed && round < maxRounds; round++ {
		changed = false
		j := 0
		for k := range rs {
			for _, lk := range rs[k].links {
				if t := targets[j]; t.ok && l.inherit(resources, rs, k, lk, t) {
					changed = true
				}
				j++
			}
		}
	}
	if changed {
		l.propagateRest(resources, rs, targets)
	}
	// After the rounds: a Patient's department may stand for the program
	// through its parents (link.parent).
	j := 0
	for k, r := range rs {
		for _, lk := range r.links {
			if t := targets[j]; lk.enrolment && t.ok {
				if d := t.passes(rs).directory; d != "" {
					if r.enrolment == nil {
						r.enrolment = map[string]string{}
					}
					r.enrolment[lk.ref(resources[k])] = d
				}
			}
			j++
		}
	}
}

// propagateRest carries labels to the end of the batch's chains once
// maxRounds rounds still changed something: each resource passes on
// again to the links naming it, and those that took something pass on
// in turn, until none does (a round only adds, so it ends), in time
// proportional to what changes rather than rounds over every link.
func (l *Labeller) propagateRest(resources [][]byte, rs []*Result, targets []linkTarget) {
	type at struct{ k, i, j int } // rs[k].links[i], its target targets[j]
	by := map[int][]at{}          // a resource of the batch: the links naming it
	var of map[*Result]int        // the batch's results, by result (versions)
	j := 0
	for k, r := range rs {
		for i := range r.links {
			if t := targets[j]; t.ok {
				if t.k >= 0 {
					by[t.k] = append(by[t.k], at{k, i, j})
				}
				for _, m := range t.more() {
					by[m] = append(by[m], at{k, i, j})
				}
				if or := t.oldRes(); or != nil {
					// The version named, in the batch (fetchVersions).
					if of == nil {
						of = make(map[*Result]int, len(rs))
						for m, r := range rs {
							of[r] = m
						}
					}
					if m, ok := of[or]; ok {
						by[m] = append(by[m], at{k, i, j})
					}
				}
			}
			j++
		}
	}
	worklist(len(rs), func(p int, push func(int)) {
		for _, a := range by[p] {
			if l.inherit(resources, rs, a.k, rs[a.k].links[a.i], targets[a.j]) {
				push(a.k)
			}
		}
	})
}

// worklist visits each of n resources, and again each one a visit
// pushes, until none is: what a resource takes it passes on in turn
// (propagateRest, linkedPatients), in time proportional to what changes.
// It ends when what visits add only grows and is bounded.
func worklist(n int, visit func(p int, push func(int))) {
	todo := make([]int, n)
	for k := range todo {
		todo[k] = k
	}
	push := func(k int) { todo = append(todo, k) }
	for len(todo) > 0 {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		visit(p, push)
	}
}

// parents carries what the directory entries of the batch stand for down
// their parent links (link.parent), the whole chain, before labels travel:
// Resolve reads parents deeper than labels travel (maxParentRounds), and a
// chain the response holds (_include:iterate) may be longer still. Taken
// a round per hop with the labels, a program at the top of a chain deeper
// than maxRounds, its units after the record in the batch, left the
// record ordinary. An entry takes what it stands for once (inherit), so
// each parent link is applied at most once after its target took its own.
func (l *Labeller) parents(resources [][]byte, rs []*Result, targets []linkTarget) {
	type parentLink struct{ k, i, j int } // rs[k].links[i], its target targets[j]
	var by map[int][]parentLink           // a parent in the batch: the links naming it
	var todo []int                        // resources that took what they stand for
	var at map[*Result]int                // the batch's results, by result (versions)
	j := 0
	for k, r := range rs {
		for i, lk := range r.links {
			if t := targets[j]; lk.parent && t.ok {
				if l.inherit(resources, rs, k, lk, t) {
					todo = append(todo, k)
				}
				if t.k >= 0 {
					if by == nil {
						by = map[int][]parentLink{}
					}
					by[t.k] = append(by[t.k], parentLink{k, i, j})
				}
				if or := t.oldRes(); or != nil {
					// The version named, in the batch when its parents are
					// read (fetchVersions).
					if at == nil {
						at = make(map[*Result]int, len(rs))
						for m, r := range rs {
							at[r] = m
						}
					}
					if m, ok := at[or]; ok {
						if by == nil {
							by = map[int][]parentLink{}
						}
						by[m] = append(by[m], parentLink{k, i, j})
					}
				}
			}
			j++
		}
	}
	for len(todo) > 0 && by != nil {
		p := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, pl := range by[p] {
			if l.inherit(resources, rs, pl.k, rs[pl.k].links[pl.i], targets[pl.j]) {
				todo = append(todo, pl.k)
			}
		}
	}
}

// inherit applies one link of resource k, whose target is t; it reports
// whether labels were added.
func (l *Labeller) inherit(resources [][]byte, rs []*Result, k int, lk link, t linkTarget) bool {
	if lk.enrolment {
		return false // read for DirectoryProgram alone (propagate)
	}
	if lk.parent {
		// A directory entry belonging to one that stands for a program
		// stands for it too; nothing else passes (QA round 42, area F).
		changed := false
		if d := t.passes(rs).directory; d != "" && rs[k].directory == "" {
			rs[k].directory = d
			changed = true
		}
		if !lk.directory || directoryTypes[rs[k].Type] {
			return changed
		}
		// A Device is a record too: its owner or site standing for the
		// program makes it the program's record, as before it was an
		// entry (QA round 43, helper H).
		lk.parent = false
		return l.inherit(resources, rs, k, lk, t) || changed
	}
	b := resources[k]
	if number, ok := claimRequest(rs[k], lk, rs, t); ok {
		return inheritClaim(b, resources[t.k], rs[k], rs[t.k], lk, t, number)
	}
	in := t.passes(rs)
	if in.directory != "" && lk.kind == refContext && !directoryTypes[rs[k].Type] && !in.labels.Has(Part2Policy) {
		// The program's role, location, service or department performed
		// it or hosted it: the program's record.
		in.labels, in.program = part2Labels, in.directory
	}
	if len(in.labels) == 0 {
		return false
	}
	add := in.labels
	part2 := in.labels.Has(Part2Policy)
	if lk.kind == refContext {
		if !part2 {
			return false
		}
		add = part2Labels
	}
	r := rs[k]
	elem := lk.kind == refContent && lk.elem.segmentableIn(r.Type)
	if !elem && lk.nowhere(r.Type) {
		return false
	}
	before := r.Effective()
	if elem {
		if !r.addElem(lk.elem, add) {
			return false
		}
	} else {
		merged := r.derived.Union(add)
		if merged.Equal(r.derived) {
			return false
		}
		r.derived = merged
		if part2 && r.Program == "" {
			r.Program = in.program
		}
	}
	r.settle(b)
	r.Reasons = appendPropagatedReasons(r.Reasons, lk, string(t.key), before, r.Effective(), add, part2, elem)
	return true
}

// appendPropagatedReasons appends to out why the labels of add that are in
// after and were not in before were added.
func appendPropagatedReasons(out []Reason, lk link, matched string, before, after, add Set, part2, elem bool) []Reason {
	var element string
	if elem {
		element = lk.elem.path()
	}
	for _, lb := range add {
		if before.Has(lb) || !after.Has(lb) {
			continue
		}
		rule, ok := propagatedRules[lk.member]
		if !ok {
			rule = "propagated:" + lk.member
		}
		reason := Reason{Label: lb, Rule: rule, Matched: matched, Path: lk.member, Element: element}
		if part2 {
			reason.Basis = Part2Policy.Code
		}
		out = append(out, reason)
	}
	return out
}

// propagatedRules are the Reason.Rule of the members that propagate.
var propagatedRules = func() map[string]string {
	m := map[string]string{}
	for k := range refMembers {
		m[k] = "propagated:" + k
	}
	return m
}()

// securityContextMember is the member of a Binary naming the resource
// that governs access to it.
const securityContextMember = "securityContext"

// securityContexts gives each Binary of the batch with a securityContext
// the patient of the resource it names (FHIR R4: that resource, e.g. the
// DocumentReference whose attachment the Binary is, governs access to
// it); its labels came along the securityContext link as a content
// reference's do. A Binary names no patient itself, so without this the
// patient's consents would not apply to it. Where that patient cannot be
// told, the Binary is flagged PatientConflict, which withholds it (fail
// closed): a securityContext that is not a literal reference (an
// identifier, a display, urn:uuid, #id), one to another server, one whose
// target is neither in the batch nor fetched into it (missing or deleted
// on the server, or no fetch: Batch.Resolve), a target that is itself a
// Binary, a target flagged PatientConflict, or a target whose patients
// differ from those the Binary names itself. A target naming several
// patients gives the Binary all of them (decided for each, as the target
// is); one naming none gives it none, as the target is decided.
func (l *Labeller) securityContexts(resources [][]byte, rs []*Result, ix *batchIndex) {
	for k, r := range rs {
		if r.Type != "Binary" {
			continue
		}
		s, _, ok, err := fjson.Lookup(resources[k], 0, securityContextMember)
		if err == nil && !ok {
			continue // access governed by the Binary's own labels
		}
		if ix == nil {
			ix = indexBatch(rs)
		}
		t := -1
		if err == nil {
			t = l.securityContextTarget(resources[k], rs, k, s, ix)
		}
		if t < 0 || rs[t].Type == "Binary" || rs[t].PatientConflict || !samePatients(r, rs[t]) {
			r.PatientConflict, r.Patient, r.SubjectPatient, r.Patients, r.PatientIdentifier = true, "", "", nil, ""
			continue
		}
		tr := rs[t]
		r.Patient, r.SubjectPatient, r.Patients, r.PatientIdentifier = tr.Patient, tr.SubjectPatient, slices.Clone(tr.Patients), tr.PatientIdentifier
	}
}

// securityContextTarget returns the index in the batch of the resource
// that the securityContext object at b[obj] of Binary r names by its
// reference, or -1.
func (l *Labeller) securityContextTarget(b []byte, rs []*Result, from, obj int, ix *batchIndex) int {
	r := rs[from]
	if b[obj] != '{' {
		return -1
	}
	s, e, ok, err := fjson.Lookup(b, obj, "reference")
	if err != nil || !ok || b[s] != '"' {
		return -1
	}
	// The link the walk made of that very string.
	for _, lk := range r.links {
		if lk.member != securityContextMember || int(lk.start) != s+1 || int(lk.end) != e-1 {
			continue
		}
		ref := []byte(lk.decoded)
		if lk.decoded == "" {
			ref = b[lk.start:lk.end]
		}
		if l.rs.Load().foreignRef(ref) {
			return -1 // another server's: not read, and not a resource of the batch
		}
		key, typLen := lk.target(b)
		if key == nil {
			return -1
		}
		if k, ok := ix.find(rs, from, key, typLen); ok {
			return k
		}
		return -1
	}
	return -1
}

// samePatients reports whether Binary r names no patient of its own, or
// the same ones as t.
func samePatients(r, t *Result) bool {
	if r.Patient == "" && r.PatientIdentifier == "" {
		return true
	}
	return r.Patient == t.Patient && r.PatientIdentifier == t.PatientIdentifier && slices.Equal(r.Patients, t.Patients)
}

// linkedPatients gives each resource of the batch the patients of the
// resources of the batch (those of the response, and targets Resolve
// fetched) that its content references name: a List whose subject is one
// patient and whose entries are another's Conditions, an Observation whose
// focus is another patient's Condition, a List with no subject. Such a
// resource tells of the other patient's records (their references, their
// displays, and the labels they pass on): it is each patient's, decided
// under each one's consents (Result.Patients). Labels flowed from the
// target, the patient did not: another patient's SUD Condition made the
// List SUD, decided under the List's patient's consent only, which
// disclosed it where the other patient had consented to nothing (QA round
// 27, area A). Context references (encounter) and a Binary's
// securityContext (securityContexts) are not followed here; a target whose
// patient cannot be told (PatientConflict) passes its labels only. Chains
// are followed as labels are, to their end (maxRounds).
//
// A target the batch does not hold but the label cache knew (so that
// Resolve did not read it) gives the patients the cache noted with its
// labels.
func (l *Labeller) linkedPatients(resources [][]byte, rs []*Result, ix *batchIndex) {
	type edge struct {
		from, to int
		cached   []string // to < 0: the patients the label cache holds for the target
	}
	var edges []edge // made once there is one: most batches hold none
	for k, r := range rs {
		if r.Type == "Patient" || r.Type == "Binary" || r.PatientConflict {
			continue
		}
		contentTargets(resources, rs, ix, k, func(key []byte, t int, ok bool) {
			if !ok && l.cache != nil {
				// A target of an earlier response, not read again: the
				// patients the cache noted with its labels.
				if e, ok := l.cache.get(key); ok && !e.conflict && len(e.patients) > 0 {
					edges = append(edges, edge{k, -1, e.patients})
				}
				return
			}
			if !ok || t == k || rs[t].PatientConflict || rs[t].Patient == "" && len(rs[t].Patients) == 0 && len(rs[t].links) == 0 {
				return // a target naming no patient, and referring to nothing that could give it one
			}
			edges = append(edges, edge{k, t, nil})
		})
	}
	// sets index the patients of a result that took more than a few, so
	// that a chain of resources of distinct patients (each derived from
	// the next, _include:iterate) costs what it adds: HasPatient and
	// AddPatient are linear in the patients, and were cubic in the chain
	// once it is followed to its end (QA round 43, helper F). A result in
	// sets owns its Patients (AddPatient copied them), so appends.
	var sets map[int]map[string]struct{}
	add := func(k int, p string) bool { // whether rs[k] took p
		r := rs[k]
		if s := sets[k]; s != nil {
			if _, ok := s[p]; ok || p == "" {
				return false
			}
			s[p] = struct{}{}
			r.Patients = append(r.Patients, p)
			return true
		}
		if p == "" || r.HasPatient(p) {
			return false
		}
		r.AddPatient(p)
		if len(r.Patients) > 8 {
			if sets == nil {
				sets = map[int]map[string]struct{}{}
			}
			s := make(map[string]struct{}, 2*len(r.Patients))
			for _, q := range r.Patients {
				s[q] = struct{}{}
			}
			sets[k] = s
		}
		return true
	}
	take := func(e edge) bool { // whether rs[e.from] took a patient
		took := false
		ps := e.cached
		if e.to >= 0 {
			ps = rs[e.to].Patients
			took = add(e.from, rs[e.to].Patient) // first in Patients when it has more
		}
		for _, p := range ps {
			if add(e.from, p) {
				took = true
			}
		}
		return took
	}
	changed := true
	for round := 0; changed && round < maxRounds; round++ {
		changed = false
		for _, e := range edges {
			if take(e) {
				changed = true
			}
		}
	}
	if changed {
		// A chain longer still in the response: to its end, from what
		// changed (maxRounds), each result passing on what it took since
		// it last passed on (all it has, the first time).
		by := map[int][]edge{}
		for _, e := range edges {
			if e.to >= 0 {
				by[e.to] = append(by[e.to], e)
			}
		}
		todo := make([]int, len(rs))
		queued := make([]bool, len(rs))
		passed := make([]bool, len(rs))
		pending := make([][]string, len(rs))
		for k := range todo {
			todo[k], queued[k] = k, true
		}
		for len(todo) > 0 {
			p := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			queued[p] = false
			d, one := pending[p], ""
			if !passed[p] {
				passed[p], d, one = true, rs[p].Patients, rs[p].Patient
			}
			pending[p] = nil
			pass := func(k int, q string) { // rs[k] takes q, and passes it on in turn
				if add(k, q) {
					pending[k] = append(pending[k], q)
					if !queued[k] {
						queued[k] = true
						todo = append(todo, k)
					}
				}
			}
			for _, e := range by[p] {
				pass(e.from, one)
				for _, q := range d {
					pass(e.from, q)
				}
			}
		}
	}
	for k := range sets {
		rs[k].Patients = slices.Clip(rs[k].Patients)
	}
	referrerPatients(resources, rs, ix)
}

// referrerPatients gives a resource of the batch that names no patient and
// refers to nothing, but carries restricted labels, the patients of the
// records of the batch whose content references name it: a buprenorphine
// Medication beside the MedicationRequests that order it
// (`_include=MedicationRequest:medication`, `$everything`). Its code labels
// it SUD, and with no patient no consent could ever disclose it: a
// consented clinician got the order without its drug. Decided under each
// of those patients' consents, it goes where they permit it, and with the
// records that name it. Named by no record of the batch (a read of the
// Medication alone), it stays a resource of no patient. The label cache
// keeps no patients for it (referred), so none passes on to a later
// referrer.
func referrerPatients(resources [][]byte, rs []*Result, ix *batchIndex) {
	var by map[int][]int // target: its referrers
	for k, r := range rs {
		if r.Type == "Patient" || r.Type == "Binary" || r.PatientConflict || r.Patient == "" {
			continue
		}
		contentTargets(resources, rs, ix, k, func(_ []byte, t int, ok bool) {
			if !ok || t == k || !patientless(rs[t]) || !restrictedLabels(rs[t].Labels) {
				return
			}
			if r.scope != 0 && rs[t].scope != r.scope {
				// A copy inside a stored Bundle (CopyIn), perhaps made
				// up, names a patient only to its own Bundle's resources,
				// not to the server's resource its reference finds
				// outside it (QA round 35, area H).
				return
			}
			if by == nil {
				by = map[int][]int{}
			}
			by[t] = append(by[t], k)
		})
	}
	for t, refs := range by {
		tr := rs[t]
		subject := rs[refs[0]].SubjectPatient
		for _, k := range refs {
			r := rs[k]
			tr.AddPatient(r.Patient)
			for _, p := range r.Patients {
				tr.AddPatient(p)
			}
			if r.SubjectPatient != subject {
				subject = ""
			}
		}
		tr.referred = true
		if len(tr.Patients) == 0 && subject == tr.Patient {
			// Each referrer is that patient's own record: so is the
			// drug it names, for the patient's right of access.
			tr.SubjectPatient = subject
		}
	}
}

// contentTargets calls f with the key ("Type/id") of each target rs[k]'s
// content references name (not a Binary's securityContext), and the
// target's index in the batch (ok false: the batch does not hold it).
func contentTargets(resources [][]byte, rs []*Result, ix *batchIndex, k int, f func(key []byte, t int, ok bool)) {
	for _, lk := range rs[k].links {
		if lk.kind != refContent || lk.member == securityContextMember {
			continue
		}
		key, typLen := lk.target(resources[k])
		if key == nil {
			continue
		}
		t, ok := ix.find(rs, k, key, typLen)
		f(key, t, ok)
	}
}

// patientless reports whether r names no patient, by reference or
// identifier, and refers to nothing that could give it one.
func patientless(r *Result) bool {
	return r.Patient == "" && len(r.Patients) == 0 && r.PatientIdentifier == "" && !r.PatientConflict &&
		len(r.links) == 0 && r.Type != "Patient" && r.Type != "Binary" && r.Type != ""
}

// restrictedLabels reports whether s holds a label beyond an unrestricted
// confidentiality (U, L, M, N): a sensitivity, a policy, a refrain, or R or
// V.
func restrictedLabels(s Set) bool {
	for _, l := range s {
		if l.System != SystemConfidentiality || l.Code == "R" || l.Code == "V" {
			return true
		}
	}
	return false
}

// itemLinks are the references by which a resource names another whose
// items it answers item by item (inheritClaim): a ClaimResponse its Claim,
// an ExplanationOfBenefit its Claim and ClaimResponse; number is the
// member holding the target's item numbers.
var itemLinks = [...]struct{ from, member, to, number string }{
	{"ClaimResponse", "request", "Claim", "sequence"},
	{"ExplanationOfBenefit", "claim", "Claim", "sequence"},
	{"ExplanationOfBenefit", "claimResponse", "ClaimResponse", "itemSequence"},
}

// itemLinked reports whether link lk of a resource of type typ is one of
// itemLinks.
func itemLinked(typ string, lk link) bool {
	for _, il := range itemLinks {
		if il.from == typ && il.member == lk.member && lk.kind == refContent {
			return true
		}
	}
	return false
}

// claimRequest reports whether link lk of r is one of itemLinks naming a
// resource of the batch (t) of the type it names, and returns the member
// holding the target's item numbers. A target only the label cache
// knows, or one named at a version, passes on its labels whole, as any
// target does.
func claimRequest(r *Result, lk link, rs []*Result, t linkTarget) (string, bool) {
	if lk.kind != refContent || t.k < 0 || len(t.old().labels) > 0 {
		return "", false
	}
	for _, il := range itemLinks {
		if il.from == r.Type && il.member == lk.member && rs[t.k].Type == il.to {
			return il.number, true
		}
	}
	return "", false
}

// eachAnsweringElem calls f for each element of resource b (of type typ)
// that names an item of the resource it answers, with the item numbers it
// names: a ClaimResponse's item, addItem and error (itemSequence), an
// ExplanationOfBenefit's item (sequence; its addItem follows its items in
// the proxy).
func eachAnsweringElem(typ string, b []byte, f func(e elemRef, seqs []string)) {
	if typ == "ClaimResponse" {
		eachResponseElem(b, f)
		return
	}
	root := fjson.SkipSpace(b, 0)
	if typ != "ExplanationOfBenefit" || root >= len(b) || b[root] != '{' {
		return
	}
	as, _, ok, err := fjson.Lookup(b, root, "item")
	if err != nil || !ok || b[as] != '[' {
		return
	}
	m := segMember("item")
	idx := int32(0)
	_ = fjson.ArrayEach(b, as, func(s, _ int) error {
		defer func() { idx++ }()
		if b[s] == '{' {
			f(elemRef{member: m, idx: idx}, itemSequences(b, s, "sequence"))
		}
		return nil
	})
}

// inheritClaim applies the link lk of r (resource b) naming c (resource
// cb), one of itemLinks, whose items are numbered by number: a
// ClaimResponse's request naming its Claim (below), or an
// ExplanationOfBenefit's claim or claimResponse, whose items are numbered
// as the Claim's (QA round 29: an EOB with no diagnosis of its own named
// a Claim whose SUD item was cut, and passed as ordinary, its item 1
// showing what was paid for the cut item). For a ClaimResponse naming
// Claim c: The Claim's resource labels pass on
// whole; the labels of an element of the Claim's item with sequence n pass
// to the response's item, addItem and error naming item n (itemSequence),
// so that the adjudication of an item cut from the Claim is cut with the
// same decision (QA round 29: the ClaimResponse took the Claim's element
// labels whole and was withheld from a caller the cut Claim was disclosed
// to, or, where nothing labelled it, showed the cut item's number and
// amounts). Fail closed: labels of a Claim item that no element of the
// response names, and those of another element of the Claim (a diagnosis,
// a procedure) that do not also go to a response element, pass on whole.
func inheritClaim(b, cb []byte, r, c *Result, lk link, t linkTarget, number string) bool {
	whole := inheritable(c.Labels)
	part2 := whole.Has(Part2Policy)
	// The Claim's items: their spans and numbers.
	type claimItem struct {
		s, e int
		seq  string
	}
	var items []claimItem
	if root := fjson.SkipSpace(cb, 0); root < len(cb) && cb[root] == '{' {
		if as, _, ok, err := fjson.Lookup(cb, root, "item"); err == nil && ok && cb[as] == '[' {
			_ = fjson.ArrayEach(cb, as, func(s, e int) error {
				it := claimItem{s: s, e: e}
				if cb[s] == '{' {
					if seqs := itemSequences(cb, s, number); len(seqs) == 1 {
						it.seq = seqs[0]
					}
				}
				items = append(items, it)
				return nil
			})
		}
	}
	bySeq := map[string]Set{}
	var rest Set // labels of Claim elements outside its items, or of items not numbered
	for _, e := range c.Elements {
		ls := inheritable(e.Labels)
		if len(ls) == 0 {
			continue
		}
		in := -1
		for k, it := range items {
			if e.Start >= it.s && e.End <= it.e {
				in = k
				break
			}
		}
		if in < 0 || items[in].seq == "" {
			rest = rest.Union(ls)
			continue
		}
		bySeq[items[in].seq] = bySeq[items[in].seq].Union(ls)
	}
	type placement struct {
		e  elemRef
		ls Set
	}
	var place []placement
	var placed Set
	used := map[string]bool{}
	eachAnsweringElem(r.Type, b, func(e elemRef, seqs []string) {
		var ls Set
		for _, q := range seqs {
			if x, ok := bySeq[q]; ok {
				ls = ls.Union(x)
				used[q] = true
			}
		}
		if len(ls) > 0 {
			place = append(place, placement{e, ls})
			placed = placed.Union(ls)
		}
	})
	for q, ls := range bySeq {
		if !used[q] {
			whole = whole.Union(ls)
		}
	}
	for _, lb := range rest {
		if !placed.Has(lb) {
			whole = whole.Union(Set{lb})
		}
	}
	before := r.Effective()
	changed := false
	if merged := r.derived.Union(whole); !merged.Equal(r.derived) {
		r.derived = merged
		changed = true
		if part2 && r.Program == "" {
			r.Program = c.Program
		}
	}
	for _, p := range place {
		if r.addElem(p.e, p.ls) {
			changed = true
		}
	}
	if !changed {
		return false
	}
	r.settle(b)
	var add Set
	add = add.Union(whole)
	for _, p := range place {
		add = add.Union(p.ls)
	}
	r.Reasons = appendPropagatedReasons(r.Reasons, lk, string(t.key), before, r.Effective(), add, part2, false)
	return true
}

package labels

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ds4p/ds4p/internal/fjson"
)

// Labeller assigns security labels to FHIR resources by code rules, by
// source (Part 2 programs) and, over a batch, by propagation along
// references. It is safe for concurrent use; SetRules swaps the code rules
// atomically while labelling goes on.
type Labeller struct {
	rs    atomic.Pointer[ruleset]
	cache *Cache // nil: no propagation across responses
}

// ruleset is one immutable generation of rules and programs.
type ruleset struct {
	rules    []compiledRule
	bySystem map[string]*matcher
	byType   map[string][]int // the type rules (Rule), by the types they label
	programs programIndex
	// local: see Options.LocalServer.
	local func(base string) bool
	// programsHash and revision: see Labeller.Revision.
	programsHash []byte
	revision     string
}

// Options configures NewLabeller.
type Options struct {
	Rules    []Rule    // code rules
	Programs []Program // Part 2 programs (source rules)
	// CacheSize bounds the cross-response label cache (resources kept);
	// 0 disables it.
	CacheSize int
	// LocalServer, when set, tells whether an absolute reference's base
	// (the URL before Type/id, /_history cut) is the server whose data is
	// labelled: a Patient named by an absolute reference to another
	// server is another person than this server's Patient of that id, so
	// the resource's patient cannot be told (Result.PatientConflict).
	// Nil takes every absolute reference as this server's (offline
	// labelling, which knows no server).
	LocalServer func(base string) bool
	// KnownTTL is how long the cache takes a target that Batch.Resolve
	// fetched and that passed nothing on (ordinary or missing) to stay so:
	// 0 means DefaultKnownTTL, negative that such targets are fetched again
	// for every batch that refers to them.
	KnownTTL time.Duration
}

// New returns a Labeller for rules, or an error listing every invalid rule.
func New(rules ...Rule) (*Labeller, error) {
	return NewLabeller(Options{Rules: rules})
}

// NewLabeller returns a Labeller for opts, or an error listing every
// problem.
func NewLabeller(opts Options) (*Labeller, error) {
	compiled, bySystem, err := compile(opts.Rules)
	progs, perr := indexPrograms(opts.Programs)
	if err := errors.Join(err, perr); err != nil {
		return nil, err
	}
	l := &Labeller{}
	if opts.CacheSize > 0 {
		l.cache = NewCache(opts.CacheSize)
		if opts.KnownTTL != 0 {
			l.cache.SetKnownTTL(opts.KnownTTL)
		}
	}
	ph := programsHash(opts.Programs)
	l.rs.Store(&ruleset{rules: compiled, bySystem: bySystem, byType: typeRules(compiled), programs: progs, local: opts.LocalServer,
		programsHash: ph, revision: rulesRevision(opts.Rules, ph)})
	return l, nil
}

// Uncached returns a Labeller with l's rules, as they are now, and no
// label cache: it neither reads nor notes what l's cache knows, so a
// reference that its batch does not resolve is read with the batch's
// FetchFunc. It is for resources that are not the upstream's (a policy
// simulation's inline resources, written by a policy author): labelled by
// l, a made-up Condition/sud1 labelled N was noted in the cache as the
// server's, and the next response's order naming it as its reason went
// out as ordinary.
func (l *Labeller) Uncached() *Labeller {
	u := &Labeller{}
	u.rs.Store(l.rs.Load())
	return u
}

// Forget drops what the label cache knows about "Type/id" passing nothing
// on, after a write of it (see Cache.Forget).
func (l *Labeller) Forget(typ, id string) {
	if l.cache != nil {
		l.cache.Forget(typ, id)
	}
}

// SetRules replaces the code rules, keeping the programs; on error the
// rules in use stay. The label cache learns of the change
// (Cache.RulesChanged): what it knew to pass nothing on is forgotten, and
// the labels it holds pass on only until their resources are labelled
// again under the new rules.
func (l *Labeller) SetRules(rules []Rule) error {
	compiled, bySystem, err := compile(rules)
	if err != nil {
		return err
	}
	old := l.rs.Load()
	l.rs.Store(&ruleset{rules: compiled, bySystem: bySystem, byType: typeRules(compiled), programs: old.programs, local: old.local,
		programsHash: old.programsHash, revision: rulesRevision(rules, old.programsHash)})
	if l.cache != nil {
		// After the store: a batch that starts after this labels under
		// the new rules; one that started before notes stale entries.
		l.cache.RulesChanged()
	}
	return nil
}

// Revision names the rules in use: a hash of the code rules (every field
// of every rule, in order) and the Part 2 programs, so it changes exactly
// when what labels resources changes (not with a comment or a file's name)
// and is the same on every proxy running the same rules, the embedded
// defaults included. The ledger records it beside the policy revision.
func (l *Labeller) Revision() string { return l.rs.Load().revision }

// programsHash hashes the Part 2 programs as configured.
func programsHash(progs []Program) []byte {
	if len(progs) == 0 {
		progs = nil // none configured, however spelled
	}
	b, err := json.Marshal(progs)
	if err != nil { // strings only: cannot happen
		panic(err)
	}
	h := sha256.Sum256(b)
	return h[:]
}

// rulesRevision is Revision for rules beside the programs' hash.
func rulesRevision(rules []Rule, programs []byte) string {
	b, err := json.Marshal(rules)
	if err != nil { // strings only: cannot happen
		panic(err)
	}
	h := sha256.New()
	h.Write([]byte("ds4p label rules v1\n"))
	h.Write(programs)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Rules returns the code rules in use.
func (l *Labeller) Rules() []Rule {
	rs := l.rs.Load()
	out := make([]Rule, len(rs.rules))
	for k := range rs.rules {
		out[k] = rs.rules[k].Rule
	}
	return out
}

// Reason explains one derived label: which rule assigned it because of
// which coding, and where that coding sits in the resource.
type Reason struct {
	Label   Label
	Rule    string // Rule.ID, "part2:<program>" or "propagated:<member>"
	Matched string // "system|code" of the matching coding, the program's reference or source, or the referenced "Type/id"
	Path    string // JSON path of the coding or reference, e.g. "code.coding[0]"
	Basis   string `json:",omitempty"` // the policy the label comes from (e.g. 42CFRPart2), written as extension-sec-label-basis
	// Element is the path of the segmentable element (e.g. "diagnosis[1]")
	// the coding or reference lies in; the label is an element label when
	// the resource is Mixed.
	Element string `json:",omitempty"`
}

// Result is what Label found in one resource.
type Result struct {
	Type, ID, VersionID string

	// Patient is "Patient/<id>": the resource itself when it is a Patient,
	// else the patient named by its top-level subject, patient or
	// beneficiary reference ("Patient/x", or a URL ending in Patient/x,
	// version suffix ignored), else the first Patient named on one of the
	// type's paths in the FHIR R4 Patient compartment (Appointment
	// participant.actor, Task.for, Group member.entity ...: see
	// compartment.go), else, when none is and no identifier names the
	// patient, the first Patient the resource refers to anywhere. It is
	// empty when no reference names a Patient (e.g. a Group subject or a
	// urn:uuid reference).
	Patient string
	// SubjectPatient is Patient when it came from the resource itself (a
	// Patient) or its top-level subject, patient or beneficiary: whose
	// record it is, not merely whom it mentions (an author, a performer, a
	// reference in an extension). "" otherwise. The proxy grants a
	// patient's right of access to their own record only on it. Not part
	// of the JSON form.
	SubjectPatient string `json:"-"`
	// Patients lists every distinct patient the resource names, Patient
	// first, when it names more than one (a Group of patients, an
	// Appointment of two, an Observation one patient made of another),
	// and the patients of the records its content references name
	// (linkedPatients: p1's List of p2's Condition is p2's too);
	// nil otherwise. Such a resource is each of theirs: a caller deciding
	// for one patient must decide it for each (see AddPatient, HasPatient).
	Patients []string `json:",omitempty"`
	// PatientIdentifier is "system|value" of the logical identifier
	// (Reference.identifier) by which the top-level subject, patient or
	// beneficiary names a patient when no reference names one: the caller
	// may resolve it to a Patient (the proxy does, for its configured
	// identifier system) and add it (AddPatient). It is empty when
	// subject, patient or beneficiary has a Patient reference, and for a
	// reference whose type names another resource type. Patient may be
	// set beside it, from another compartment path.
	PatientIdentifier string `json:",omitempty"`
	// PatientConflict: the top-level subject, patient and beneficiary name
	// different patients (by reference, or, when no reference names one,
	// by identifier), or a reference that would name its patient is an
	// absolute one to another server (Options.LocalServer), or a Binary's
	// securityContext names no resource of the batch whose patient is
	// known (securityContexts), so whose record it is cannot be told. Patient,
	// SubjectPatient, Patients and PatientIdentifier are then all empty,
	// but the resource is not one about no patient: a caller deciding by
	// patient must withhold it (the proxy does, as if denied). Its labels
	// are found as for any resource.
	PatientConflict bool `json:",omitempty"`

	Existing Set      // labels found in meta.security, legacy systems normalised
	Labels   Set      // Existing plus derived resource-level labels, with one confidentiality: the highest
	Reasons  []Reason // why each derived label in Labels or Elements was assigned
	Changed  bool     // Labels differs from Existing, or an element gets labels, or Respelt
	// Respelt: an existing meta.security entry spells its label otherwise
	// than ds4p writes it (a legacy system URL or an OID, another case, no
	// system, an unknown confidentiality read as R) and no entry spells it
	// so. Edits then appends the label as ds4p writes it, beside the
	// entry (kept as it came): a receiver that compares labels exactly sees
	// what ds4p read.
	Respelt bool `json:",omitempty"`

	// Program names the Part 2 program the resource is a record of, or "".
	Program string `json:",omitempty"`

	// Elements are the element-level labels: those the upstream already
	// set (kept byte for byte) and, when Mixed, the labels of sensitive
	// segmentable elements (written as inline label extensions by Edits).
	Elements []ElementLabel `json:",omitempty"`
	// Mixed: the resource mixes sensitive and ordinary elements; its
	// sensitivity is in Elements only and Labels has PROCESSINLINELABEL.
	Mixed bool `json:",omitempty"`
	// Narrative is where text.div's value lies (zero when absent);
	// MarkNarrative says enforcement must drop or replace it: the resource
	// is sensitive, or Mixed (a removed element would live on in it).
	Narrative     Span `json:",omitzero"`
	MarkNarrative bool `json:",omitempty"`

	links   []link         // references that propagate labels (see LabelAll)
	derived Set            // resource-level labels derived by rules, sources and propagation
	elems   []elemState    // labels derived for segmentable elements
	inline  []ElementLabel // elements with existing inline labels
	// directory names the Part 2 program this directory entry stands for
	// (a PractitionerRole, Location, HealthcareService, Organization or
	// Device naming it, or a department partOf it): a record whose source
	// member names the entry gets the program's labels (inherit).
	directory string
	// enrolment maps a Patient's references (as written, decoded) to a
	// directory entry standing for a Part 2 program to that program
	// (DirectoryProgram).
	enrolment map[string]string

	// referred: Patient and Patients are those of the records referring to
	// it (referrerPatients), not its own; the label cache keeps none, so
	// that they pass on to no later referrer.
	referred bool
	// copied: not the server's resource of its Type/id (CopyIn,
	// ContainedIn); the label cache notes nothing of it.
	copied bool
	// unnamed: no reference by Type/id names it (ContainedIn).
	unnamed bool
	// scope is the stored Bundle of copies it is in (CopyIn; a contained
	// resource's, its container's), 0 for none: a copy is found by Type/id
	// only by references of resources of its scope, whose references find
	// the copies of their scope first (batchIndex.find).
	scope int
	// canonURL and canonVersion are the resource's own canonical (a
	// Questionnaire's url and version), "" when it has none: a link
	// naming that canonical (link.canonical) finds it in the batch.
	canonURL, canonVersion string
	// idents are a directory entry's own identifiers ("system|value"),
	// on sites with programs: a link naming it by identifier alone
	// (link.ident) finds it in the batch by them.
	idents []string
}

// maxDepth bounds how deep Label follows nested objects and arrays; real
// resources stay far below it.
const maxDepth = 128

// Label scans one resource (a JSON object) once. It reads resourceType, id,
// meta.versionId, meta.security, the patient reference and every Coding (any
// object with string "system" and "code" members, including those inside
// contained resources and extensions) and applies the rules.
//
// Label never panics on malformed input: it returns an error for invalid
// JSON, for a missing resourceType, for nesting deeper than 128 and for a
// duplicate of any member it relies on (resourceType, id, meta, versionId,
// security, subject, patient, beneficiary, and system or code in any
// object), since a second copy could hide labels from one reader. Callers
// should validate whole bodies with fjson.Validate, which rejects every
// duplicate key. Label never drops an existing label, except that a lower
// confidentiality gives way to the highest one.
func (l *Labeller) Label(resource []byte) (Result, error) {
	return l.label(resource, nil, nil, nil, false)
}

// label is Label with the links of the resource kept in the free capacity
// of *arena when it has room (LabelAll: one allocation for the links of a
// whole batch instead of one per resource); *arena grows by what they take.
// valid says resource is known to be valid JSON (LabelAllValid).
// strs, when not nil, holds the strings of the result.
// reasons, when not nil, is the arena of the result's reasons.
func (l *Labeller) label(resource []byte, arena *[]link, strs *strArena, reasons *[]Reason, valid bool) (Result, error) {
	r, _, _, err := l.labelWith(resource, arena, strs, reasons, valid, nil)
	return r, err
}

// labelWith is label, or, with check, label for the object at resource[0]
// that ends where its closing brace is, not at the end of resource, every
// byte of it checked by check (Batch.AddChecked). It also returns the
// index just past the object and where the value of its top-level
// contained member starts (-1: none).
func (l *Labeller) labelWith(resource []byte, arena *[]link, strs *strArena, reasons *[]Reason, valid bool, check *fjson.Checker) (r Result, end, contained int, err error) {
	if len(resource) > math.MaxInt32 {
		return Result{}, 0, -1, errors.New("labels: resource larger than 2 GiB")
	}
	w := walker{rs: l.rs.Load(), b: resource, valid: valid, check: check, strs: strs, reasonArena: reasons}
	if arena != nil {
		n := len(*arena)
		w.links = (*arena)[n:n]
		defer func() { *arena = claimLinks(*arena, w.links) }()
	}
	i := fjson.SkipSpace(resource, 0)
	if i >= len(resource) || resource[i] != '{' || (check != nil && i != 0) {
		return Result{}, 0, -1, errors.New("labels: resource is not a JSON object")
	}
	if end, err = w.resource(i); err != nil {
		return Result{}, 0, -1, fmt.Errorf("labels: reading resource: %w", err)
	}
	if check != nil {
		w.b = resource[:end] // the resource, as label sees it
	} else if fjson.SkipSpace(resource, end) != len(resource) {
		return Result{}, 0, -1, errors.New("labels: data after the resource")
	}
	if !w.typ.seen {
		return Result{}, 0, -1, errors.New("labels: resource has no resourceType")
	}
	contained = -1
	if w.contained > 0 {
		contained = w.contained
	}
	return w.result(), end, contained, nil
}

// claim grows arena over used when used still lies in its free capacity
// (its appends did not outgrow it); else arena stays as it was.
func claim[T any](arena, used []T) []T {
	n := len(arena)
	if len(used) == 0 || cap(arena)-n < len(used) || &arena[n:cap(arena)][0] != &used[0] {
		return arena
	}
	return arena[:n+len(used)]
}

// claimLinks is claim for the links of LabelAll's arena.
func claimLinks(arena, links []link) []link {
	return claim(arena, links)
}

// result assembles the Result once the walk is done.
func (w *walker) result() Result {
	var r Result
	r.Type = w.decode(w.typ)
	pid, conflict := w.patientID(r.Type)
	if pid == nil && !conflict {
		r.PatientIdentifier, conflict = w.patientIdentifier()
	}
	var buf [maxPatientRefs][]byte
	var pids [][]byte
	if conflict {
		// No patient at all, not even one from the compartment paths or
		// any reference: either would name one of the conflicting
		// patients as if it were the record's.
		r.PatientConflict = true
	} else {
		pids = w.patientIDs(buf[:0], r.Type, pid, r.PatientIdentifier != "")
		if w.foreignPatient { // another server's Patient: the same rule as a conflict
			r.PatientConflict, r.PatientIdentifier, pids = true, "", nil
		}
	}
	var first []byte
	if len(pids) > 0 {
		first = pids[0]
	}
	r.ID, r.VersionID, r.Patient = w.strings(first)
	if w.canonURL.seen {
		r.canonURL = strings.TrimSpace(w.decode(w.canonURL))
		r.canonVersion = strings.TrimSpace(w.decode(w.canonVersion))
	}
	if pid != nil {
		r.SubjectPatient = r.Patient
	}
	if len(pids) > 1 {
		r.Patients = make([]string, len(pids))
		r.Patients[0] = r.Patient
		for k, id := range pids[1:] {
			if w.strs != nil {
				r.Patients[k+1] = w.strs.patient(id)
			} else {
				r.Patients[k+1] = "Patient/" + string(id)
			}
		}
	}
	r.Respelt = w.respelt() // before toSet, which may sort w.existing in place
	r.Existing = toSet(w.existing)
	hits := w.derive(&r)
	for _, t := range w.tags {
		r.derived = r.derived.Union(Set{t.label})
	}
	if w.contained > 0 {
		w.containedDocumentLabels()
	}
	for _, d := range w.docLabels {
		if d.of(r.Type) {
			r.derived = r.derived.Union(Set{d.label})
		}
	}
	if w.program != "" && !directoryTypes[r.Type] &&
		(len(pids) > 0 || r.PatientIdentifier != "" || r.PatientConflict || w.contained != 0 || !w.availability(r.Type)) {
		r.Program = w.program
		r.derived = r.derived.Union(part2Labels)
	}
	if directoryTypeTargets[r.Type] {
		// A role, location, service or department of the program:
		// no record of it, but a record it performed or hosted is.
		r.directory = cmp.Or(w.program, w.partOfProgram, w.ownProgram)
		r.idents = w.ownIdents
	}
	if w.div.seen {
		r.Narrative = Span{Start: w.div.start, End: w.div.end}
	}
	r.inline = w.inline
	r.settle(w.b)
	var reasons []Reason
	if w.reasonArena != nil {
		if a := *w.reasonArena; cap(a)-len(a) < 16 {
			// Arenas double from 16 to 256 reasons, so that labelling
			// one resource does not allocate room for a Bundle's.
			*w.reasonArena = make([]Reason, 0, min(max(2*cap(a), 16), 256))
		}
		reasons = (*w.reasonArena)[len(*w.reasonArena):]
	}
	reasons = w.reasons(reasons, hits, r.Effective())
	for _, t := range w.tags {
		if r.Labels.Has(t.label) {
			reasons = append(reasons, Reason{Label: t.label, Rule: "meta.tag", Matched: t.label.String(), Path: "meta.tag[" + strconv.Itoa(t.index) + "]"})
		}
	}
	for _, d := range w.docLabels {
		if d.of(r.Type) && r.Labels.Has(d.label) {
			reasons = append(reasons, Reason{Label: d.label, Rule: r.Type + "." + d.member(), Matched: d.label.String(), Path: d.path})
		}
	}
	if r.Program != "" {
		reasons = w.programReasons(reasons, r.Labels)
	}
	if len(reasons) > 0 {
		if w.reasonArena != nil {
			*w.reasonArena = claim(*w.reasonArena, reasons)
		}
		r.Reasons = reasons[:len(reasons):len(reasons)] // no append may reach the next resource's reasons
	}
	r.links = w.linksFor(r.Type)
	return r
}

// DirectoryProgram returns the Part 2 program the directory entry a
// Patient's reference ref (as written, escapes decoded) names stands for:
// a department partOf the program, a role, site or service of it (read
// from the batch, the label cache or the upstream, as a record's source
// member's is); "" for any other reference or resource.
func (r *Result) DirectoryProgram(ref string) string {
	return r.enrolment[ref]
}

// Directory returns the Part 2 program a directory entry (a
// PractitionerRole, Location, HealthcareService, Organization or Device)
// stands for: one naming it (organization, managingOrganization,
// providedBy, owner) or a
// department partOf it; "" for any other.
func (r *Result) Directory() string {
	return r.directory
}

// linksFor drops the links that propagate nowhere in typ (link.nowhere).
func (w *walker) linksFor(typ string) []link {
	out := w.links[:0]
	for _, lk := range w.links {
		if lk.enrolment {
			if typ == "Patient" {
				out = append(out, lk)
			}
			continue
		}
		if (lk.parent || lk.directory) && directoryTypeTargets[typ] {
			// A role's organization or location, a site's managing
			// organization, a department's parent: what it stands for
			// this entry stands for (inherit), at any depth.
			lk.parent = true
			out = append(out, lk)
			continue
		}
		if lk.parent {
			continue
		}
		if !lk.nowhere(typ) && !(lk.directory && directoryTypes[typ]) {
			out = append(out, lk)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out[:len(out):len(out)] // its capacity may be LabelAll's arena: no append may reach the next resource's links
}

// strings returns the id, version id and "Patient/<pid>" of the resource,
// sharing one allocation.
func (w *walker) strings(pid []byte) (id, version, patient string) {
	rawID, rawVersion := w.decoded(w.id), w.decoded(w.versionID)
	if w.strs != nil {
		a := w.strs
		start := a.grow(len(rawID) + len(rawVersion))
		a.sb.Write(rawID)
		a.sb.Write(rawVersion)
		all := a.since(start)
		if len(pid) > 0 {
			patient = a.patient(pid)
		}
		return all[:len(rawID)], all[len(rawID):], patient
	}
	var sb strings.Builder
	sb.Grow(len(rawID) + len(rawVersion) + len("Patient/") + len(pid))
	sb.Write(rawID)
	sb.Write(rawVersion)
	if len(pid) > 0 {
		sb.WriteString("Patient/")
		sb.Write(pid)
	}
	all := sb.String()
	id, all = all[:len(rawID)], all[len(rawID):]
	return id, all[:len(rawVersion)], all[len(rawVersion):]
}

// derive puts the labels of the rules that matched and apply to r.Type
// into r.derived, or into r.elems for codings inside a segmentable
// element, and those of the type rules of r.Type into r.derived, and
// returns those matches.
func (w *walker) derive(r *Result) []hit {
	hits := w.hits[:0]
	for _, h := range w.hits {
		rule := &w.rs.rules[h.rule]
		if !rule.appliesTo(r.Type) {
			continue
		}
		if h.elem.segmentableIn(r.Type) {
			r.addElem(h.elem, rule.labels)
		} else {
			h.elem = elemRef{}
			r.derived = r.derived.Union(rule.labels)
		}
		hits = append(hits, h)
	}
	for _, k := range w.rs.byType[r.Type] {
		r.derived = r.derived.Union(w.rs.rules[k].labels)
		hits = append(hits, hit{rule: k, matched: "resourceType|" + r.Type})
	}
	if len(w.rs.byType) > 0 && w.contained > 0 {
		// A contained resource of a type rule's type labels its
		// container, as a contained resource's code does.
		w.eachContained(func(n, _ int, typ []byte) {
			for _, k := range w.rs.byType[string(typ)] {
				r.derived = r.derived.Union(w.rs.rules[k].labels)
				hits = append(hits, hit{rule: k, matched: "resourceType|" + string(typ), path: "contained[" + strconv.Itoa(n) + "]"})
			}
		})
	}
	// A resource of a type rule's type in an attachment's FHIR JSON
	// labels the resource, as one contained does.
	for _, typ := range w.attachedTypes {
		for _, k := range w.rs.byType[typ] {
			r.derived = r.derived.Union(w.rs.rules[k].labels)
			hits = append(hits, hit{rule: k, matched: "resourceType|" + typ})
		}
	}
	return hits
}

// reasons appends to out why each label of final was assigned by a hit.
func (w *walker) reasons(out []Reason, hits []hit, final Set) []Reason {
	for _, h := range hits {
		r := &w.rs.rules[h.rule]
		var elem string
		if h.elem.ok() {
			elem = h.elem.path()
		}
		for _, lb := range r.labels {
			if final.Has(lb) {
				out = append(out, Reason{Label: lb, Rule: r.ID, Matched: h.matched, Path: h.path, Element: elem})
			}
		}
	}
	return out
}

// programReasons appends to out why the Part 2 labels of final were
// assigned.
func (w *walker) programReasons(out []Reason, final Set) []Reason {
	for _, lb := range part2Labels {
		if final.Has(lb) {
			out = append(out, Reason{Label: lb, Rule: w.strs.concat("part2:", w.program), Matched: w.programMatch, Path: w.programPath, Basis: Part2Policy.Code})
		}
	}
	return out
}

// CopyIn marks r as a copy inside the stored Bundle (a document, a
// collection, a message) that scope names, not the server's resource of
// its Type/id: it may be of an older version or made up. scope is any
// number but 0, the same for every copy of one Bundle and another for
// each Bundle. Within the batch, a reference by Type/id finds r only from
// a resource of the same scope (a document's Composition naming its own
// entries): from any other resource it names what it would name without
// r (a resource of the response that is the server's, the label cache, or
// the server's resource, read: Batch.Resolve). And Finish notes nothing of
// r in the label cache. Taken for the server's, a copy of Condition/sud1
// without its SUD code, in a document on a search page or noted in the
// cache, passed N to an order naming Condition/sud1 as its reason, which
// went to org-b unread (QA round 35, areas D and E).
func (r *Result) CopyIn(scope int) {
	r.copied, r.scope = true, scope
	if scope == 0 {
		r.unnamed = true // found by none
	}
}

// ContainedIn marks r as a resource contained in container, whose result
// is final as to CopyIn: its id is its container's, so no reference by
// Type/id finds it, and Finish notes nothing of it in the label cache
// (references to it are the container's "#id"). Its own references find
// what its container's would.
func (r *Result) ContainedIn(container *Result) {
	r.copied, r.unnamed = true, true
	if container != nil {
		r.scope = container.scope
	}
}

// Referred reports whether r's patients are those of the records of its
// batch that name it (referrerPatients), not its own: a caller deciding
// it should count only those of its referrers that it discloses.
func (r *Result) Referred() bool { return r.referred }

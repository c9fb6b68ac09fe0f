package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"
	"weak"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/util"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var tracer = otel.Tracer("github.com/ds4p/ds4p/policy")

// ErrUndefined is returned when the decision query is undefined for an input:
// the policy is broken, and the caller must treat it as a deny.
var ErrUndefined = errors.New("policy: decision undefined")

// Defaults of the engine's caches.
const (
	// DefaultDecisionCacheSize bounds the decisions kept per policy revision.
	DefaultDecisionCacheSize = 1 << 16
	// DefaultConsentCacheSize bounds the patients' consent sets kept in
	// policy form.
	DefaultConsentCacheSize = 1 << 12
)

// Engine evaluates decisions against the policy revision currently loaded.
// It is safe for concurrent use; Load swaps revisions atomically, and a
// failed Load leaves the revision in force serving.
//
// Decisions are cached across requests when the input carries a ConsentKey:
// the cache key is the policy revision (each revision has its own cache),
// the consent versions, the patient, every caller attribute, the request's
// interaction and type, and the item class. The request time is not part of
// the key: a cached decision is reused only inside the window of request
// times for which its evaluation comes out the same, which the interpreter
// reports by following input.request.time_ns through it (window.go). A
// policy may read the time as it likes: a use the interpreter does not
// follow, or evaluation by topdown, makes the decision hold for its own
// request time only (Status.DecisionReuse says so).
type Engine struct {
	query      string
	cacheSize  int
	evaluator  string // EvaluatorIR or EvaluatorTopdown (vm.go)
	verify     bool
	noIndex    bool
	noFixed    bool
	source     string
	log        *slog.Logger
	onLoad     func(LoadEvent) // WithLoadHook (events.go)
	cur        atomic.Pointer[prepared]
	consents   *boundedCache[*consentSet]
	memo       *inputMemo
	fixedUsed  atomic.Int64 // evaluations given fixed verdicts (fixed.go)
	evals      atomic.Int64 // evaluations of the decision query
	mu         sync.Mutex   // guards status
	status     Status
	instrument *instruments
	budget     time.Duration // WithDecisionBudget (vm.go): 0 the default, < 0 none
}

type prepared struct {
	compiled   *compiled // held: compiledRevisions keeps it only weakly
	eval       rego.PreparedEvalQuery
	fixed      *rego.PreparedEvalQuery // nil: evaluate plainly (fixed.go)
	fixedOff   string                  // why fixed is nil
	fixedReads *reads                  // the input fields fixed may read
	contexts   *boundedCache[fixedEntry]
	reads      *reads
	revision   string
	loadedAt   time.Time
	decisions  *boundedCache[cachedDecision]
	vm         *vmPrograms // nil: topdown evaluates, vmOff says why (vm.go)
	vmOff      string
	timeLost   atomic.Pointer[string] // window.go
	// purposes is the revision's config.purpose_hierarchy (PurposeHierarchy).
	purposes map[string][]string
	// spanStart names the revision on each decision's span: made once,
	// not per decision (the option copies its attributes into each span).
	spanStart trace.SpanStartEventOption
}

// Option configures an Engine.
type Option func(*Engine)

// WithQuery sets the decision query (default "data.ds4p.decision").
func WithQuery(q string) Option { return func(e *Engine) { e.query = q } }

// WithDecisionCache bounds the decisions cached per revision; 0 disables
// the cross-request cache.
func WithDecisionCache(n int) Option { return func(e *Engine) { e.cacheSize = n } }

// WithVerify makes every Load check that the policy answers its decision
// for an ordinary input, run the policy's own Rego tests (there must be
// some) and check its policy data against schema/config.schema.json (the
// tree's, or the embedded one) before the new revision may serve.
func WithVerify(v bool) Option { return func(e *Engine) { e.verify = v } }

// WithConsentIndex turns the per-patient consent index (index.go) on
// (the default) or off, which makes the policy scan every provision.
func WithConsentIndex(on bool) Option { return func(e *Engine) { e.noIndex = !on } }

// WithFixedVerdicts turns the sharing of fixed consent verdicts across a
// response's decision classes (fixed.go) on (the default) or off.
func WithFixedVerdicts(on bool) Option { return func(e *Engine) { e.noFixed = !on } }

// fixedContexts bounds the response contexts whose fixed verdicts are kept
// per revision (fixed.go): as many as the patients' consent sets kept.
const fixedContexts = DefaultConsentCacheSize

// WithSource names where the policy comes from ("embedded", a directory),
// for status and logs.
func WithSource(s string) Option { return func(e *Engine) { e.source = s } }

// WithLogger sets the logger for loads and rejections (no PHI is logged).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// New returns an engine with the policy tree fsys loaded.
func New(ctx context.Context, fsys fs.FS, opts ...Option) (*Engine, error) {
	e := &Engine{
		query: "data.ds4p.decision", cacheSize: DefaultDecisionCacheSize, source: "embedded", evaluator: EvaluatorIR,
		consents: newBoundedCache[*consentSet](DefaultConsentCacheSize),
		memo:     newInputMemo(),
	}
	for _, o := range opts {
		o(e)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.evaluator != EvaluatorIR && e.evaluator != EvaluatorTopdown {
		return nil, fmt.Errorf("policy: unknown evaluator %q (want %q or %q)", e.evaluator, EvaluatorIR, EvaluatorTopdown)
	}
	e.instrument = newInstruments()
	if err := e.Load(ctx, fsys); err != nil {
		return nil, err
	}
	return e, nil
}

// Load compiles the modules (every *.rego except *_test.rego) and data files
// of fsys and prepares the decision query; with WithVerify it also runs the
// tree's Rego tests and checks its policy data. Loading the revision already
// in force does nothing. On error the revision in force keeps serving, and
// Status reports the rejection.
func (e *Engine) Load(ctx context.Context, fsys fs.FS) error {
	if fsys == nil { // a caller's missing tree is a rejection, not a panic
		return e.reject("", errors.New("policy: there is no policy tree to load"))
	}
	fsys, err := snapshot(fsys)
	if err != nil {
		return e.reject("", err)
	}
	rev, err := Revision(fsys)
	if err != nil {
		return e.reject("", err)
	}
	if cur := e.cur.Load(); cur != nil && cur.revision == rev {
		e.clearRejection()
		return nil
	}
	p, err := e.prepare(ctx, fsys, rev)
	if err != nil {
		return e.reject(rev, err)
	}
	e.cur.Store(p)
	e.accept(ctx, p)
	return nil
}

func (e *Engine) prepare(ctx context.Context, fsys fs.FS, rev string) (*prepared, error) {
	key := rev + "\x00" + e.query
	c := loadBuild[compiled](&compiledRevisions, key)
	if c == nil {
		var err error
		if c, err = compile(ctx, fsys, e.query); err != nil {
			return nil, err
		}
		storeBuild(&compiledRevisions, key, c)
	}
	pq, rd, fixed, fixedOff, fixedReads := c.pq, c.reads, c.fixed, c.fixedOff, c.fixedReads
	if e.verify {
		if err := verify(ctx, fsys, c, e.query); err != nil {
			return nil, err
		}
	}
	p := &prepared{
		compiled: c,
		eval:     pq, reads: rd, revision: rev, loadedAt: time.Now(),
		decisions: newBoundedCache[cachedDecision](e.cacheSize),
		purposes:  purposeHierarchy(c.data),
		spanStart: trace.WithAttributes(attribute.String("ds4p.policy.revision", rev)),
	}
	if !e.noFixed {
		p.fixed, p.fixedOff, p.fixedReads = fixed, fixedOff, fixedReads
		if fixed != nil {
			p.contexts = newBoundedCache[fixedEntry](fixedContexts)
		}
	} else {
		p.fixedOff = "turned off (WithFixedVerdicts(false))"
	}
	if e.evaluator == EvaluatorIR {
		if p.vm = loadBuild[vmPrograms](&vmRevisions, key); p.vm == nil {
			if p.vm, p.vmOff = prepareVM(ctx, fsys, rev, c, e.query); p.vm != nil {
				storeBuild(&vmRevisions, key, p.vm)
			}
		}
	} else {
		p.vmOff = "chosen in the configuration"
	}
	return p, nil
}

// compiledRevisions and vmRevisions keep, weakly, what compiling a
// revision for a query made: its prepared queries and input reads, and the
// interpreter's programs (only those that passed the cross-check). Engines
// of one process loading the same revision (the proxy's and a test's many,
// the policy tools beside the server) then compile it once: ~0.25 s and
// 30 MB of allocations each time otherwise. Both are made from the
// revision's modules and data alone, which the revision names, and are
// only read once made; every engine keeps its own decisions, contexts and
// consent sets. Weak: a revision no engine holds is not kept alive here.
var compiledRevisions, vmRevisions sync.Map // rev + "\x00" + query -> weak.Pointer

func loadBuild[T any](m *sync.Map, key string) *T {
	w, ok := m.Load(key)
	if !ok {
		return nil
	}
	v := w.(weak.Pointer[T]).Value()
	if v == nil {
		m.CompareAndDelete(key, w)
	}
	return v
}

func storeBuild[T any](m *sync.Map, key string, v *T) {
	m.Store(key, weak.Make(v))
}

// compiled is a policy tree compiled for the engine.
type compiled struct {
	pq         rego.PreparedEvalQuery
	reads      *reads
	fixed      *rego.PreparedEvalQuery // nil: fixedOff says why (fixed.go)
	fixedOff   string
	fixedReads *reads
	modules    map[string]*ast.Module
	data       ast.Value // the policy data
}

// compile loads and compiles fsys and prepares query, and the fixed
// verdicts query when the policy allows it (fixed.go; otherwise fixedOff
// says why); it also reports which input fields the modules read.
func compile(ctx context.Context, fsys fs.FS, query string) (*compiled, error) {
	res, err := loadTree(fsys, false)
	if err != nil {
		return nil, err
	}
	data, err := ast.InterfaceToValue(res.Documents)
	if err != nil {
		return nil, fmt.Errorf("policy: reading policy data: %w", err)
	}
	store := inmem.NewFromObjectWithOpts(res.Documents,
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	mods := res.ParsedModules()
	c := &compiled{modules: mods, data: data}
	c.pq, err = rego.New(regoOptions(query, store, mods)...).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: compiling: %w", err)
	}
	c.reads = inputReads(mods)
	if q, err := ast.ParseBody(query); err == nil {
		ast.WalkRefs(q, func(r ast.Ref) bool { c.reads.add(r); return false })
	}
	c.fixed, c.fixedReads, c.fixedOff = prepareFixed(ctx, mods, store)
	return c, nil
}

// regoOptions are the options of every query the engine prepares: the
// modules and policy data, strict builtin errors, results as AST terms.
func regoOptions(query string, store storage.Store, mods map[string]*ast.Module) []func(*rego.Rego) {
	opts := []func(*rego.Rego){
		rego.Query(query),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
		rego.SetRegoVersion(ast.RegoV1),
		rego.GenerateJSON(termResult),
	}
	for _, m := range mods {
		opts = append(opts, rego.ParsedModule(m))
	}
	return opts
}

// Revision returns the identifier of the policy revision in force.
func (e *Engine) Revision() string {
	if p := e.cur.Load(); p != nil {
		return p.revision
	}
	return ""
}

// Decide evaluates the decision for one input, or returns the cached
// decision of an identical input (see Engine). Any error, an undefined
// decision or a panic inside the evaluator comes back as an error: callers
// withhold the item.
func (e *Engine) Decide(ctx context.Context, in Input) (d Decision, err error) {
	p := e.cur.Load()
	if p == nil {
		return Decision{}, errors.New("policy: no policy loaded")
	}
	// A patient whose consents state no criterion about the item's type
	// gets one decision for all types of a label set (reads.typeBlind):
	// known only while the consents' policy form is cached.
	cs, haveCS := e.cachedConsentSet(&in)
	var keyBuf [512]byte
	key, cacheable := in.appendCacheKey(keyBuf[:0], p.reads, haveCS && p.reads.typeBlind(cs))
	cacheable = cacheable && p.decisions != nil
	if cacheable && haveCS {
		// Made with these consents' content, not only their versions
		// (consentSet.digest).
		if c, ok := p.decisions.getBytes(key); ok && c.lo <= in.Request.TimeNS && in.Request.TimeNS < c.hi && c.consents == cs.digest {
			e.instrument.decided(ctx, c.d.Effect, true)
			return c.d, nil
		}
	}
	if !haveCS {
		if cs, err = e.consentSet(&in); err != nil {
			return Decision{}, err
		}
		if cacheable {
			key, _ = in.appendCacheKey(keyBuf[:0], p.reads, p.reads.typeBlind(cs))
		}
	}
	d, win, err := e.evaluate(ctx, p, &in, cs)
	if err != nil {
		return Decision{}, err
	}
	e.instrument.decided(ctx, d.Effect, false)
	if cacheable {
		p.decisions.put(string(key), cachedDecision{d: d, lo: win.lo, hi: win.hi, consents: cs.digest})
	}
	return d, nil
}

// Evaluations returns how many times the decision query has been evaluated
// (decisions not answered by the cache), across revisions.
func (e *Engine) Evaluations() int64 { return e.evals.Load() }

// cachedConsentSet returns the cached policy form of in's consents, if any.
// A form cached under in's ConsentKey but built from other consent values
// (pointers) is not theirs for certain: an upstream may change a consent
// without moving its version, and the key names versions only
// (consentSet.serves).
func (e *Engine) cachedConsentSet(in *Input) (*consentSet, bool) {
	if in.ConsentKey == "" {
		return nil, false
	}
	cs, ok := e.consents.get(in.ConsentKey)
	if !ok || !cs.serves(in.Consents) {
		return nil, false
	}
	return cs, true
}

// consentSet returns the policy form of in's consents, cached by ConsentKey
// (and checked as cachedConsentSet checks it).
func (e *Engine) consentSet(in *Input) (*consentSet, error) {
	if cs, ok := e.cachedConsentSet(in); ok {
		return cs, nil
	}
	cs, err := newConsentSet(in.Consents, in.Patient, !e.noIndex)
	if err != nil {
		return nil, err
	}
	if in.ConsentKey != "" {
		e.consents.put(in.ConsentKey, cs)
	}
	return cs, nil
}

// evaluate runs the prepared query once, recovering panics as errors, and
// returns the decision with the request times it holds for (window.go).
func (e *Engine) evaluate(ctx context.Context, p *prepared, in *Input, cs *consentSet) (d Decision, win window, err error) {
	ctx, span := tracer.Start(ctx, "policy.Engine.Decide", p.spanStart)
	defer func() {
		panicked := false
		if r := recover(); r != nil {
			err = fmt.Errorf("policy: evaluation panicked: %v", r)
			panicked = true
		}
		if err != nil {
			// A fixed kind, never the error's text: built-in errors and a
			// panic's value can quote the input (a patient's data).
			kind := "evaluation failed"
			switch {
			case panicked:
				kind = "evaluation panicked"
			case errors.Is(err, context.Canceled):
				kind = "canceled"
			case errors.Is(err, context.DeadlineExceeded):
				kind = "timeout"
			case errors.Is(err, ErrUndefined):
				kind = "undefined"
			}
			span.AddEvent("exception", trace.WithAttributes(attribute.String("exception.message", kind)))
			span.SetStatus(codes.Error, "decision failed")
		}
		if span.IsRecording() { // the attribute's slice is made only for a span kept
			span.SetAttributes(attribute.String("ds4p.policy.effect", d.Effect))
		}
		span.End()
	}()
	e.evals.Add(1)
	ctx, stop := e.bounded(ctx) // the decision's budget (vm.go)
	defer stop()
	fixed, fixedWin := e.fixedVerdicts(ctx, p, in, cs) // fixed.go
	input := in.value(cs.value, e.memo, fixed)
	var v ast.Value
	win = instant(in.Request.TimeNS)
	if p.vm != nil { // vm.go
		var lost string
		v, win, lost, err = evalVM(ctx, p.vm.decision, input, in.Request.TimeNS)
		e.noteLost(p, lost)
	} else {
		v, err = topdownValue(ctx, p.eval, input)
	}
	if fixed != nil { // the decision rests on them too
		win = win.intersect(fixedWin)
	}
	if err != nil {
		return Decision{}, win, fmt.Errorf("policy: evaluating: %w", err)
	}
	if v == nil {
		return Decision{}, win, ErrUndefined
	}
	d, err = decodeDecision(v)
	d.Revision = p.revision
	return d, win, err
}

// Revision returns a content hash of what the engine loads from a policy
// tree (its modules other than tests, and its data files): the same policy
// gives the same revision on every replica, and tests, schemas and case
// files do not change it.
//
// Data documents count by content, not by file: each is parsed and placed
// where the loader puts it (data.json in dir a/b is data.a.b), and the
// merged document is hashed in canonical JSON. So a policy directory and
// the OPA bundle `ds4p policy build` makes of it (whose data is one merged
// data.json) have the same revision, and what `policy check` and `policy
// build` print is what /readyz and GET /admin/policy report once it serves.
// A data document that is not an object (true, a list) is the value at its
// directory, as the loader places it. A data file that does not parse, or
// that the loader would refuse (a document at the root that is not an
// object, a value where another file put a different one), counts by its
// path and bytes, so a broken tree still has a revision to name in its
// rejection.
func Revision(fsys fs.FS) (string, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && loaded(d.Name(), false) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("policy: listing policy files: %w", err)
	}
	sort.Strings(paths)
	h := sha256.New()
	data := map[string]any{}
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", fmt.Errorf("policy: reading %s: %w", p, err)
		}
		if strings.HasSuffix(p, ".rego") {
			fmt.Fprintf(h, "m\x00%s\x00%d\x00", p, len(b))
			h.Write(b)
			continue
		}
		doc, ok := parseDataFile(p, b)
		if !ok || !mergeAt(data, strings.Split(path.Dir(p), "/"), doc) {
			fmt.Fprintf(h, "r\x00%s\x00%d\x00", p, len(b))
			h.Write(b)
		}
	}
	canon, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("policy: data documents: %w", err)
	}
	fmt.Fprintf(h, "d\x00%d\x00", len(canon))
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// MaxTreeBytes bounds the policy tree Load reads into memory.
const MaxTreeBytes = 64 << 20

// snapshot returns the files of fsys as they are now, read once each: Load
// reads a tree several times (its revision, the compile, the Rego tests,
// the policy data's check, the evaluator), and a directory an analyst edits
// while it loads would otherwise serve modules under another content's
// revision, or modules other than those its tests passed. A tree that
// cannot change (in memory, embedded) is used as it is.
func snapshot(fsys fs.FS) (fs.FS, error) {
	switch fsys.(type) {
	case fstest.MapFS, embed.FS, *embed.FS:
		return fsys, nil
	}
	out := fstest.MapFS{}
	total := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || editorLock(d.Name()) {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			if d.Type()&fs.ModeSymlink != 0 {
				if fi, serr := fs.Stat(fsys, p); serr == nil && fi.IsDir() {
					return nil // a link to a directory: the loaders do not follow it either
				}
			}
			return fmt.Errorf("policy: reading %s: %w", p, err)
		}
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) && (loaded(d.Name(), true) || strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".yaml")) {
			// Windows editors write one; the loaders' message would be
			// "invalid character 'ï'".
			return fmt.Errorf("policy: %s starts with a UTF-8 byte-order mark; save it without one", p)
		}
		if total += len(b); total > MaxTreeBytes {
			return fmt.Errorf("policy: the policy tree holds more than %d MiB; only Rego, data, schema and case files belong in it", MaxTreeBytes>>20)
		}
		out[p] = &fstest.MapFile{Data: b, Mode: 0o444}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseDataFile reads a data document as the loader does (numbers kept as
// written); ok is false when it does not parse.
func parseDataFile(name string, b []byte) (any, bool) {
	var doc any
	if err := util.Unmarshal(b, &doc); err != nil {
		return nil, false
	}
	return doc, true
}

// mergeAt merges doc into data below the directory segments dirs ("." is
// the root), as the loader does: objects merge key by key, and any other
// document is the value at its directory (a data.json holding true or a
// list). It reports false, and leaves data as it was, where the loader
// refuses the file: a document at the root that is not an object, or a
// value where another file already put one. Skipping such documents let a
// changed flag keep its revision: it was never reloaded, and two policies
// shared one revision in the ledger.
func mergeAt(data map[string]any, dirs []string, doc any) bool {
	var segs []string
	for _, d := range dirs {
		if d != "." && d != "" {
			segs = append(segs, d)
		}
	}
	if len(segs) == 0 {
		obj, ok := doc.(map[string]any)
		if !ok || !mergeable(data, obj) {
			return false
		}
		mergeInto(data, obj)
		return true
	}
	// The document as an object from the root down to its directory.
	var wrapped any = doc
	for i := len(segs) - 1; i >= 0; i-- {
		wrapped = map[string]any{segs[i]: wrapped}
	}
	obj := wrapped.(map[string]any)
	if !mergeable(data, obj) {
		return false
	}
	mergeInto(data, obj)
	return true
}

// mergeable reports whether doc merges into data without a conflict: each
// key either new, or an object on both sides that merges in turn.
func mergeable(data, doc map[string]any) bool {
	for k, v := range doc {
		cur, exists := data[k]
		if !exists {
			continue
		}
		a, ok1 := cur.(map[string]any)
		b, ok2 := v.(map[string]any)
		if !ok1 || !ok2 || !mergeable(a, b) {
			return false
		}
	}
	return true
}

// mergeInto merges doc into data; mergeable(data, doc) holds.
func mergeInto(data, doc map[string]any) {
	for k, v := range doc {
		if a, ok := data[k].(map[string]any); ok {
			mergeInto(a, v.(map[string]any))
			continue
		}
		data[k] = v
	}
}

// loaded reports whether a file of this name is part of the policy: Rego
// modules (tests only when asked) and data documents.
func loaded(name string, withTests bool) bool {
	if editorLock(name) {
		return false
	}
	if strings.HasSuffix(name, "_test.rego") {
		return withTests
	}
	return strings.HasSuffix(name, ".rego") || name == "data.json" || name == "data.yaml"
}

// editorLock reports whether a file name is an editor's lock file: Emacs
// marks a file it holds unsaved changes of with ".#<name>", a symbolic
// link to a name that does not exist. ".#main.rego" ends in .rego, and
// reading it failed the whole tree: while an analyst had a module open
// with changes, every reload was rejected and /readyz said so (QA round
// 27). It is no part of the policy.
func editorLock(name string) bool { return strings.HasPrefix(name, ".#") }

// loadTree loads modules and data documents; tests are included on request.
func loadTree(fsys fs.FS, withTests bool) (*loader.Result, error) {
	// The loader stats every file before its filter sees the name, and an
	// editor's lock file (a link to nothing) failed it; the tree as read
	// once leaves such files out (a tree read so is used as it is).
	fsys, err := snapshot(fsys)
	if err != nil {
		return nil, err
	}
	filter := func(_ string, info fs.FileInfo, _ int) bool {
		return !info.IsDir() && !loaded(info.Name(), withTests)
	}
	res, err := loader.NewFileLoader().
		WithFS(fsys).
		WithRegoVersion(ast.RegoV1).
		Filtered([]string{"."}, filter)
	if err != nil {
		return nil, fmt.Errorf("policy: loading: %w", err)
	}
	if len(res.Modules) == 0 {
		return nil, errors.New("policy: no Rego modules found")
	}
	return res, nil
}

// PurposeHierarchy returns the purpose-of-use hierarchy of the policy
// revision in force (data.ds4p.config.purpose_hierarchy: each purpose with
// its direct narrower purposes), a copy of its own; nil when none is
// loaded or the policy data has none. The proxy relates a consent's
// purposes by it where it explains them (the 42 CFR 2.32(b) notice), so
// the explanation follows the hierarchy the policy decides with.
func (e *Engine) PurposeHierarchy() map[string][]string {
	p := e.cur.Load()
	if p == nil || p.purposes == nil {
		return nil
	}
	out := make(map[string][]string, len(p.purposes))
	for k, v := range p.purposes {
		out[k] = slices.Clone(v)
	}
	return out
}

// purposeHierarchy reads data.ds4p.config.purpose_hierarchy from the policy
// data; entries that are not lists of strings are left out.
func purposeHierarchy(data ast.Value) map[string][]string {
	if data == nil {
		return nil
	}
	v, err := data.Find(ast.Ref{ast.StringTerm("ds4p"), ast.StringTerm("config"), ast.StringTerm("purpose_hierarchy")})
	if err != nil {
		return nil
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil
	}
	out := make(map[string][]string, obj.Len())
	obj.Foreach(func(k, v *ast.Term) {
		key, ok := k.Value.(ast.String)
		arr, ok2 := v.Value.(*ast.Array)
		if !ok || !ok2 {
			return
		}
		var narrower []string
		arr.Foreach(func(t *ast.Term) {
			if s, ok := t.Value.(ast.String); ok {
				narrower = append(narrower, string(s))
			}
		})
		out[string(key)] = narrower
	})
	return out
}

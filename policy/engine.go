package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
)

var tracer = otel.Tracer("github.com/ds4p/ds4p/policy")

// ErrUndefined is returned when the decision query is undefined for an input:
// the policy is broken, and the caller must treat it as a deny.
var ErrUndefined = errors.New("policy: decision undefined")

// Engine evaluates decisions against the policy revision currently loaded.
// It is safe for concurrent use; Load swaps revisions atomically.
type Engine struct {
	query string
	cur   atomic.Pointer[prepared]
}

type prepared struct {
	eval     rego.PreparedEvalQuery
	revision string
}

// Option configures an Engine.
type Option func(*Engine)

// WithQuery sets the decision query (default "data.ds4p.decision").
func WithQuery(q string) Option { return func(e *Engine) { e.query = q } }

// New returns an engine with the policy tree fsys loaded.
func New(ctx context.Context, fsys fs.FS, opts ...Option) (*Engine, error) {
	e := &Engine{query: "data.ds4p.decision"}
	for _, o := range opts {
		o(e)
	}
	if err := e.Load(ctx, fsys); err != nil {
		return nil, err
	}
	return e, nil
}

// Load compiles the modules (every *.rego except *_test.rego) and data files
// of fsys and prepares the decision query. On error the revision in force
// keeps serving.
func (e *Engine) Load(ctx context.Context, fsys fs.FS) error {
	res, err := loadTree(fsys, false)
	if err != nil {
		return err
	}
	rev, err := Revision(fsys)
	if err != nil {
		return err
	}
	store, err := res.Store()
	if err != nil {
		return fmt.Errorf("policy: building data store: %w", err)
	}
	opts := []func(*rego.Rego){
		rego.Query(e.query),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
		rego.SetRegoVersion(ast.RegoV1),
	}
	for name, m := range res.ParsedModules() {
		_ = name
		opts = append(opts, rego.ParsedModule(m))
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return fmt.Errorf("policy: compiling: %w", err)
	}
	e.cur.Store(&prepared{eval: pq, revision: rev})
	return nil
}

// Revision returns the identifier of the policy revision in force.
func (e *Engine) Revision() string {
	if p := e.cur.Load(); p != nil {
		return p.revision
	}
	return ""
}

// Decide evaluates the decision for one input. Any error, an undefined
// decision or a panic inside the evaluator comes back as an error: callers
// withhold the item.
func (e *Engine) Decide(ctx context.Context, in Input) (d Decision, err error) {
	ctx, span := tracer.Start(ctx, "policy.Engine.Decide")
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("policy: evaluation panicked: %v", r)
		}
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "decision failed")
		}
		span.SetAttributes(attribute.String("ds4p.policy.effect", d.Effect))
		span.End()
	}()
	p := e.cur.Load()
	if p == nil {
		return Decision{}, errors.New("policy: no policy loaded")
	}
	in.Version = InputVersion
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		return Decision{}, fmt.Errorf("policy: building input: %w", err)
	}
	rs, err := p.eval.Eval(ctx, rego.EvalParsedInput(v))
	if err != nil {
		return Decision{}, fmt.Errorf("policy: evaluating: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return Decision{}, ErrUndefined
	}
	d, err = toDecision(rs[0].Expressions[0].Value)
	d.Revision = p.revision
	return d, err
}

func toDecision(v any) (Decision, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Decision{}, fmt.Errorf("policy: reading decision: %w", err)
	}
	var d Decision
	if err := json.Unmarshal(raw, &d); err != nil {
		return Decision{}, fmt.Errorf("policy: reading decision: %w", err)
	}
	switch d.Effect {
	case Permit, Deny, Redact:
		return d, nil
	}
	return Decision{}, fmt.Errorf("policy: decision has unknown effect %q", d.Effect)
}

// Revision returns a content hash of the policy tree: the same files give the
// same revision on every replica.
func Revision(fsys fs.FS) (string, error) {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".yaml")) {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("policy: listing policy files: %w", err)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return "", fmt.Errorf("policy: reading %s: %w", p, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// loadTree loads modules and data documents; tests are included on request.
func loadTree(fsys fs.FS, withTests bool) (*loader.Result, error) {
	filter := func(abspath string, info fs.FileInfo, _ int) bool {
		if info.IsDir() {
			return false
		}
		name := info.Name()
		if strings.HasSuffix(name, "_test.rego") {
			return !withTests
		}
		return !(strings.HasSuffix(name, ".rego") || name == "data.json" || name == "data.yaml")
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

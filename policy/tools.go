package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	regofs "github.com/ds4p/ds4p/rego"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// Paths of the schemas inside a policy tree.
const (
	ConfigSchemaPath = "schema/config.schema.json"
	InputSchemaPath  = "schema/input.schema.json"
)

// TestResult is the outcome of one Rego test.
type TestResult struct {
	Package, Name string
	Pass          bool
	Err           error
}

// testTimeout bounds one Rego test. OPA's runner allows 5 s, which a busy
// host can exceed: a load would then reject a good policy as failing its
// tests. ctx still bounds the whole run.
const testTimeout = 2 * time.Minute

// RunTests runs the Rego unit tests (rules named test_*) of the policy tree,
// as `opa test` does.
func RunTests(ctx context.Context, fsys fs.FS) ([]TestResult, error) {
	res, err := loadTree(fsys, true)
	if err != nil {
		return nil, err
	}
	store := inmem.NewFromObjectWithOpts(res.Documents, inmem.OptRoundTripOnWrite(false))
	ch, err := tester.NewRunner().
		SetStore(store).
		SetModules(res.ParsedModules()).
		RaiseBuiltinErrors(true).
		SetTimeout(testTimeout).
		RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("policy: running tests: %w", err)
	}
	var out []TestResult
	for r := range ch {
		out = append(out, TestResult{Package: r.Package, Name: r.Name, Pass: r.Pass(), Err: r.Error})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Package+"."+out[i].Name < out[j].Package+"."+out[j].Name
	})
	return out, nil
}

// Unformatted lists the .rego files of fsys that `opa fmt` would change.
func Unformatted(fsys fs.FS) ([]string, error) {
	var bad []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		got, err := format.Source(p, src)
		if err != nil {
			return fmt.Errorf("policy: formatting %s: %w", p, err)
		}
		if !bytes.Equal(got, src) {
			bad = append(bad, p)
		}
		return nil
	})
	return bad, err
}

// Verify runs the tree's Rego tests and validates its policy data against
// schema/config.schema.json (the tree's, or the embedded one when it has
// none). It returns nil only when every
// test passes and the data is valid.
func Verify(ctx context.Context, fsys fs.FS) error {
	results, err := RunTests(ctx, fsys)
	if err != nil {
		return err
	}
	var failed []string
	for _, r := range results {
		if !r.Pass {
			failed = append(failed, r.Package+"."+r.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("policy: %d of %d Rego tests failed: %s", len(failed), len(results), strings.Join(failed, ", "))
	}
	problems, err := ValidateData(ctx, fsys)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("policy: policy data does not match %s: %s", ConfigSchemaPath, strings.Join(problems, "; "))
	}
	return nil
}

// Problem is one finding of Check.
type Problem struct {
	Stage   string `json:"stage"` // compile, format, test, cases, data
	Message string `json:"message"`
}

// Check compiles the tree, checks its formatting, runs its Rego tests and
// its case matrix (cases/*.yaml) and validates its policy data, and reports
// every problem found.
func Check(ctx context.Context, fsys fs.FS) ([]Problem, error) {
	var out []Problem
	if _, err := compile(ctx, fsys, "data.ds4p.decision"); err != nil {
		out = append(out, Problem{"compile", err.Error()})
		return out, nil
	}
	bad, err := Unformatted(fsys)
	if err != nil {
		out = append(out, Problem{"format", err.Error()})
	}
	for _, f := range bad {
		out = append(out, Problem{"format", f + ": not opa fmt formatted"})
	}
	results, err := RunTests(ctx, fsys)
	if err != nil {
		out = append(out, Problem{"test", err.Error()})
	}
	for _, r := range results {
		if !r.Pass {
			out = append(out, Problem{"test", testFailure(r)})
		}
	}
	// The case matrix is the policy's own tests too: compliance staff add a
	// row when a rule changes, and a change that breaks a row must not pass
	// check (nor build, which checks first).
	cases, err := RunCases(ctx, fsys)
	if err != nil {
		out = append(out, Problem{"cases", err.Error()})
	}
	for _, c := range cases {
		if c.Problem != "" {
			out = append(out, Problem{"cases", c.File + ": " + c.Name + ": " + c.Problem})
		}
	}
	problems, err := ValidateData(ctx, fsys)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		out = append(out, Problem{"data", p})
	}
	return out, nil
}

func testFailure(r TestResult) string {
	msg := r.Package + "." + r.Name + " failed"
	if r.Err != nil {
		msg += ": " + r.Err.Error()
	}
	return msg
}

// ValidateData checks data.ds4p.config against the tree's config schema,
// or the proxy's own (the embedded policy's) when the tree has none, and
// returns one message per problem.
func ValidateData(ctx context.Context, fsys fs.FS) ([]string, error) {
	schema, err := fs.ReadFile(fsys, ConfigSchemaPath)
	if errors.Is(err, fs.ErrNotExist) {
		// A tree without its schema is held to the contract of the proxy
		// that runs it, as a bundle is (ReadBundle): skipping validation
		// let check print "policy data valid" about data never validated.
		schema, err = fs.ReadFile(regofs.FS(), ConfigSchemaPath)
	}
	if err != nil {
		return nil, fmt.Errorf("policy: reading %s: %w", ConfigSchemaPath, err)
	}
	res, err := loadTree(fsys, false)
	if err != nil {
		return nil, err
	}
	var config any = map[string]any{}
	if ds4p, ok := res.Documents["ds4p"].(map[string]any); ok && ds4p["config"] != nil {
		config = ds4p["config"]
	}
	return MatchSchema(ctx, config, schema)
}

// ValidateInput checks an input document against the tree's input schema.
func ValidateInput(ctx context.Context, fsys fs.FS, doc any) ([]string, error) {
	schema, err := fs.ReadFile(fsys, InputSchemaPath)
	if err != nil {
		return nil, fmt.Errorf("policy: reading %s: %w", InputSchemaPath, err)
	}
	return MatchSchema(ctx, doc, schema)
}

// MatchSchema validates doc against a JSON Schema (OPA's json.match_schema)
// and returns one message per problem.
func MatchSchema(ctx context.Context, doc any, schema []byte) ([]string, error) {
	var s any
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, fmt.Errorf("policy: schema is not JSON: %w", err)
	}
	rs, err := rego.New(
		rego.Query("r := json.match_schema(input.doc, input.schema)"),
		rego.Input(map[string]any{"doc": doc, "schema": s}),
		rego.SetRegoVersion(ast.RegoV1),
		rego.StrictBuiltinErrors(true),
	).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: validating against schema: %w", err)
	}
	if len(rs) == 0 {
		return nil, errors.New("policy: schema validation gave no result")
	}
	r, _ := rs[0].Bindings["r"].([]any)
	if len(r) != 2 {
		return nil, errors.New("policy: schema validation gave an unexpected result")
	}
	if ok, _ := r[0].(bool); ok {
		return nil, nil
	}
	var out []string
	errs, _ := r[1].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		out = append(out, fmt.Sprintf("%v: %v", m["field"], m["desc"]))
	}
	sort.Strings(out)
	return out, nil
}

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

// Verify checks that the tree defines data.ds4p.decision and answers it
// for an ordinary input (checkDecision), runs the tree's Rego tests and
// validates its policy data against schema/config.schema.json (the tree's,
// or the embedded one when it has none). It returns nil only when the
// decision is answered, the tree has Rego tests and every one passes, and
// the data is valid.
func Verify(ctx context.Context, fsys fs.FS) error {
	fsys, err := snapshot(fsys) // read once, as Load reads it
	if err != nil {
		return err
	}
	c, err := compile(ctx, fsys, regofs.Query)
	if err != nil {
		return err
	}
	return verify(ctx, fsys, c, regofs.Query)
}

// verify is Verify of a tree already compiled for query.
func verify(ctx context.Context, fsys fs.FS, c *compiled, query string) error {
	if err := checkDecision(ctx, c, query); err != nil {
		return err
	}
	results, err := RunTests(ctx, fsys)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return errNoTests
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
	// The tests passed on the modules and the test files together: what
	// the test files add to the policy is not what serves (testrules.go).
	extra, err := testFileRules(fsys, c.modules)
	if err != nil {
		return err
	}
	if len(extra) > 0 {
		return fmt.Errorf("policy: the Rego tests passed on rules the proxy does not load: %s", strings.Join(extra, "; "))
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

// errNoTests: a tree without Rego tests passed verification with nothing
// verified, which is how a bundle of modules alone (or one whose decision
// rule was lost) came to serve.
var errNoTests = errors.New("policy: the policy has no Rego tests (rules named test_* in *_test.rego files): a revision must carry the tests that show what it decides")

// ErrNoCases: a policy directory's case matrix (cases/*.yaml) is compliance
// staff's record of what the policy must decide; an empty one checks
// nothing.
var ErrNoCases = errors.New("policy: the case matrix is empty: no cases/*.yaml file defines a case (see cases/matrix.yaml in ds4p policy export)")

// smokeTimeout bounds checkDecision's evaluation.
const smokeTimeout = 10 * time.Second

// smokeInput is a request the proxy decides all day: a treating clinician
// of an organisation reading an unlabelled Observation of a patient
// without consents.
func smokeInput() Input {
	return Input{
		Version: InputVersion,
		Caller: Caller{Subject: "ds4p-load-check", Org: "Organization/ds4p-load-check", OrgIdentifiers: []string{},
			Client: "ds4p-load-check", Scopes: []string{"user/*.read"}, Purposes: []string{"TREAT"}},
		Request: Request{Interaction: "read", Type: "Observation", TimeNS: time.Now().UnixNano()},
		Patient: "Patient/ds4p-load-check",
		Item:    Item{Type: "Observation", Labels: []string{}},
	}
}

// checkDecision checks that the policy defines the decision the engine
// asks for (query: data.ds4p.decision) and answers it, as a decision the
// proxy can read, for smokeInput. A tree without it compiled, loaded and
// passed its tests, and every request then failed while /readyz said the
// policy was fine.
func checkDecision(ctx context.Context, c *compiled, query string) error {
	if ref, err := ast.ParseRef(query); err == nil && !definesRef(c, ref) {
		return fmt.Errorf("policy: no rule defines %s, the decision the proxy asks the policy for every item: every request would fail", query)
	}
	cs, err := newConsentSet(nil, "", false)
	if err != nil {
		return err
	}
	in := smokeInput()
	ctx, cancel := context.WithTimeout(ctx, smokeTimeout)
	defer cancel()
	v, err := topdownValue(ctx, c.pq, in.value(cs.value, nil, nil))
	const what = "a treating clinician reading an unlabelled Observation"
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("policy: deciding for %s took more than %v: every decision would take too long", what, smokeTimeout)
	case err != nil:
		return fmt.Errorf("policy: deciding for %s failed, as every such request would: %w", what, err)
	case v == nil:
		return fmt.Errorf("policy: %s is undefined for %s: every such request would fail (give the decision a default: default decision := ...)", query, what)
	}
	if _, err := decodeDecision(v); err != nil {
		return fmt.Errorf("policy: %s for %s is not a decision the proxy can read: %w", query, what, err)
	}
	return nil
}

// definesRef reports whether a rule defines ref or a document below it
// (decision := ..., decision.effect := ...), or the policy data holds it.
func definesRef(c *compiled, ref ast.Ref) bool {
	for _, m := range c.modules {
		for _, r := range m.Rules {
			if m.Package.Path.Extend(r.Head.Ref()).HasPrefix(ref) {
				return true
			}
		}
	}
	if c.data != nil && len(ref) > 1 {
		if _, err := c.data.Find(ref[1:]); err == nil {
			return true
		}
	}
	return false
}

// Problem is one finding of Check.
type Problem struct {
	Stage   string `json:"stage"` // compile, decision, format, test, cases, data
	Message string `json:"message"`
}

// Check compiles the tree, checks that it answers data.ds4p.decision
// (checkDecision) and is formatted, runs its Rego tests and its case
// matrix (cases/*.yaml; neither may be empty) and validates its policy
// data, and reports every problem found.
func Check(ctx context.Context, fsys fs.FS) ([]Problem, error) {
	var out []Problem
	fsys, err := snapshot(fsys) // read once, as Load reads it
	if err != nil {
		return append(out, Problem{"read", err.Error()}), nil
	}
	c, err := compile(ctx, fsys, regofs.Query)
	if err != nil {
		out = append(out, Problem{"compile", err.Error()})
		return out, nil
	}
	if err := checkDecision(ctx, c, regofs.Query); err != nil {
		out = append(out, Problem{"decision", err.Error()})
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
	} else if len(results) == 0 {
		out = append(out, Problem{"test", errNoTests.Error()})
	}
	for _, r := range results {
		if !r.Pass {
			out = append(out, Problem{"test", testFailure(r)})
		}
	}
	if extra, err := testFileRules(fsys, c.modules); err != nil {
		out = append(out, Problem{"test", err.Error()})
	} else {
		for _, e := range extra {
			out = append(out, Problem{"test", e})
		}
	}
	// The case matrix is the policy's own tests too: compliance staff add a
	// row when a rule changes, and a change that breaks a row must not pass
	// check (nor build, which checks first).
	cases, err := RunCases(ctx, fsys)
	if err != nil {
		out = append(out, Problem{"cases", err.Error()})
	} else if len(cases) == 0 {
		out = append(out, Problem{"cases", ErrNoCases.Error()})
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
// the security labels and topics it names (dataLabelProblems), and returns
// one message per problem.
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
	problems, err := MatchSchema(ctx, config, schema)
	if err != nil {
		return nil, err
	}
	// What the schema cannot say: a label spelt otherwise than items'
	// labels are (datalabels.go), a topic the table does not hold.
	return append(problems, dataLabelProblems(config)...), nil
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
	out, err := schemaProblems(rs)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return out, nil
}

// schemaProblems reads the result of a query binding r to
// json.match_schema's [valid, errors]: one message per problem, sorted.
func schemaProblems(rs rego.ResultSet) ([]string, error) {
	if len(rs) == 0 {
		return nil, errors.New("schema validation gave no result")
	}
	r, _ := rs[0].Bindings["r"].([]any)
	if len(r) != 2 {
		return nil, errors.New("schema validation gave an unexpected result")
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

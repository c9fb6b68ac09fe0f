package policy

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown/cache"
	"github.com/open-policy-agent/opa/v1/util"
	"gopkg.in/yaml.v3"
)

// A case file is the data-driven test matrix of a policy: callers, consent
// patterns and label sets by name, then explicit cases and grids (one case
// per caller and consent column). It is read by `go test ./policy`, by
// `ds4p policy test`, and by compliance staff. See rego/cases/matrix.yaml.
type caseFile struct {
	Time     string                 `yaml:"time"`
	Patient  string                 `yaml:"patient"`
	Data     map[string]any         `yaml:"data"`
	Aliases  map[string]string      `yaml:"aliases"`
	Callers  map[string]caseCaller  `yaml:"callers"`
	Consents map[string]caseConsent `yaml:"consents"`
	Labels   map[string][]string    `yaml:"labels"`
	Cases    []caseSpec             `yaml:"cases"`
	Grids    []gridSpec             `yaml:"grids"`
}

type caseCaller struct {
	Subject        string   `yaml:"subject"`
	Org            string   `yaml:"org"`
	OrgIdentifiers []string `yaml:"org_identifiers"`
	Purposes       []string `yaml:"purposes"`
	BreakGlass     string   `yaml:"break_glass"`
	// FHIRUser is the token's fhirUser (Type/id); when it is the file's
	// patient, the caller is that patient (input.caller_is_patient).
	FHIRUser string `yaml:"fhir_user"`
	// IssuedAt and ExpiresAt are the lifetime of the token carrying a
	// break-the-glass claim, as offsets from the file's time ("-1m",
	// "59m"), or "none" for a token without iat or exp. Defaults: -1m and
	// 14m, a short-lived token.
	IssuedAt  string `yaml:"issued_at"`
	ExpiresAt string `yaml:"expires_at"`
}

// caseConsent is a normalised consent (see the input schema), with
// defaults: id = its name, version "1", status active, the file's patient,
// no period. Like copies the rules of another consent; Start and End are
// RFC 3339 times.
type caseConsent struct {
	Like     string           `yaml:"like"`
	Status   string           `yaml:"status"`
	Version  string           `yaml:"version"`
	Patient  string           `yaml:"patient"`
	Policies []string         `yaml:"policies"`
	Start    string           `yaml:"start"`
	End      string           `yaml:"end"`
	Rules    []map[string]any `yaml:"rules"`
}

type caseSpec struct {
	Name        string    `yaml:"name"`
	Caller      string    `yaml:"caller"`
	Consents    []string  `yaml:"consents"`
	Labels      []string  `yaml:"labels"`
	Type        string    `yaml:"type"`
	Source      string    `yaml:"source"`
	Expect      string    `yaml:"expect"`
	Obligations *[]string `yaml:"obligations"`
	Notices     *[]string `yaml:"notices"`
	BreakGlass  *bool     `yaml:"break_glass"`
	Rules       []string  `yaml:"rules"`
	// Facts are the item's own codes, reference and clinical date
	// (RFC 3339), as the proxy passes them for patients whose consents
	// name codes, data or a data period.
	Facts *caseFacts `yaml:"facts"`
	// CallerIsPatient, when set, overrides input.caller_is_patient as the
	// caller's fhir_user gives it.
	CallerIsPatient *bool `yaml:"caller_is_patient"`
}

type caseFacts struct {
	Codes     []string `yaml:"codes"`
	Reference string   `yaml:"reference"`
	Time      string   `yaml:"time"`
}

// gridSpec is a table: for each caller (row) the expected effect per
// consent column ("none", or consent names joined by "+").
type gridSpec struct {
	Name        string              `yaml:"name"`
	Labels      []string            `yaml:"labels"`
	Type        string              `yaml:"type"`
	Source      string              `yaml:"source"`
	Columns     []string            `yaml:"columns"`
	Expect      map[string][]string `yaml:"expect"`
	Obligations *[]string           `yaml:"obligations"`
	Notices     *[]string           `yaml:"notices"`
}

// Case is one row of the matrix, ready to evaluate.
type Case struct {
	Name  string
	Input Input
	// Expected effect, and (when set) obligations, notice ids, break-glass
	// flag, and rules that must appear among the reasons.
	Effect      string
	Obligations *[]string
	Notices     *[]string
	BreakGlass  *bool
	Rules       []string
}

// CaseSet is the cases of one file and the policy data overrides they run
// with.
type CaseSet struct {
	File  string
	Data  map[string]any
	Cases []Case
}

// LoadCases reads every cases/*.yaml of a policy tree. A case file it
// would not read (named *.yml, or below a subdirectory of cases/) is an
// error rather than a matrix that passes without it.
func LoadCases(fsys fs.FS) ([]CaseSet, error) {
	files, err := fs.Glob(fsys, "cases/*.yaml")
	if err != nil {
		return nil, err
	}
	if err := unreadCaseFiles(fsys); err != nil {
		return nil, err
	}
	var out []CaseSet
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		set, err := ParseCases(b)
		if err != nil {
			return nil, fmt.Errorf("policy: %s: %w", f, err)
		}
		set.File = f
		out = append(out, set)
	}
	return out, nil
}

// unreadCaseFiles refuses YAML files under cases/ that LoadCases would
// not read: cases/x.yml, cases/X.YAML or cases/team/x.yaml were skipped
// without a word, and `policy test`, check and build passed without their
// cases (QA round 20).
func unreadCaseFiles(fsys fs.FS) error {
	var bad []string
	err := fs.WalkDir(fsys, "cases", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == "cases" {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		ext := strings.ToLower(path.Ext(p))
		if ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if path.Dir(p) != "cases" || path.Ext(p) != ".yaml" {
			bad = append(bad, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("policy: listing case files: %w", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("policy: %s would not be run: case files are cases/*.yaml, directly in cases/ and ending in .yaml (rename or move them)", strings.Join(bad, ", "))
	}
	return nil
}

// ParseCases reads one case file, which is one YAML document: cases in a
// second document (after ---) were skipped without a word.
func ParseCases(b []byte) (CaseSet, error) {
	var f caseFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return CaseSet{}, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return CaseSet{}, fmt.Errorf("after the first YAML document: %w", err)
	case !emptyDocument(&next):
		return CaseSet{}, fmt.Errorf("line %d: a case file is one YAML document, and this second one (after ---) would not be run: join it to the first or make it a file of its own", next.Line)
	}
	return f.build()
}

// emptyDocument reports whether n, a decoded YAML document, holds nothing
// (a trailing --- or a null).
func emptyDocument(n *yaml.Node) bool {
	if n.Kind == 0 || len(n.Content) == 0 {
		return true
	}
	c := n.Content[0]
	return c.Kind == yaml.ScalarNode && c.Tag == "!!null"
}

func (f *caseFile) build() (CaseSet, error) {
	at, err := time.Parse(time.RFC3339, f.Time)
	if err != nil {
		return CaseSet{}, fmt.Errorf("time: %w", err)
	}
	if f.Patient == "" {
		f.Patient = "Patient/p1"
	}
	consents, err := f.buildConsents()
	if err != nil {
		return CaseSet{}, err
	}
	b := caseBuilder{f: f, at: at.UnixNano(), consents: consents}
	set := CaseSet{Data: f.Data}
	for _, c := range f.Cases {
		built, err := b.single(c)
		if err != nil {
			return CaseSet{}, fmt.Errorf("case %q: %w", c.Name, err)
		}
		set.Cases = append(set.Cases, built)
	}
	for _, g := range f.Grids {
		built, err := b.grid(g)
		if err != nil {
			return CaseSet{}, fmt.Errorf("grid %q: %w", g.Name, err)
		}
		set.Cases = append(set.Cases, built...)
	}
	return set, nil
}

func (f *caseFile) buildConsents() (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	names := slices.Sorted(maps.Keys(f.Consents))
	for _, name := range names {
		c, err := f.consent(name, 0)
		if err != nil {
			return nil, fmt.Errorf("consent %q: %w", name, err)
		}
		out[name] = c
	}
	return out, nil
}

func (f *caseFile) consent(name string, depth int) (map[string]any, error) {
	spec, ok := f.Consents[name]
	if !ok || depth > 8 {
		return nil, fmt.Errorf("no consent named %q", name)
	}
	c := map[string]any{
		"id": name, "version": "1", "status": "active", "patient": f.Patient,
		"policies": []any{}, "start_ns": 0, "end_ns": 0, "rules": []any{},
	}
	if spec.Like != "" {
		base, err := f.consent(spec.Like, depth+1)
		if err != nil {
			return nil, err
		}
		maps.Copy(c, base)
		c["id"] = name
	}
	if spec.Rules != nil {
		rules := make([]any, len(spec.Rules))
		for i, r := range spec.Rules {
			rules[i] = f.expandRule(r)
		}
		c["rules"] = rules
	}
	set := func(key, v string) {
		if v != "" {
			c[key] = v
		}
	}
	set("status", spec.Status)
	set("version", spec.Version)
	set("patient", spec.Patient)
	if spec.Policies != nil {
		c["policies"] = toAny(spec.Policies)
	}
	for key, v := range map[string]string{"start_ns": spec.Start, "end_ns": spec.End} {
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, err
		}
		c[key] = t.UnixNano()
	}
	return c, nil
}

// expandRule replaces label aliases inside a rule's conditions.
func (f *caseFile) expandRule(r map[string]any) map[string]any {
	out := maps.Clone(r)
	conds, _ := r["conditions"].([]any)
	expanded := make([]any, len(conds))
	for i, c := range conds {
		m, _ := c.(map[string]any)
		m = maps.Clone(m)
		if m == nil {
			m = map[string]any{}
		}
		// data_start and data_end are RFC 3339 times for data_start_ns
		// and data_end_ns.
		for _, k := range []string{"data_start", "data_end"} {
			if v, ok := m[k].(string); ok {
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					delete(m, k)
					m[k+"_ns"] = t.UnixNano()
				}
			}
		}
		if ls, ok := m["labels"].([]any); ok {
			var labels []any
			for _, l := range ls {
				labels = append(labels, f.label(fmt.Sprint(l)))
			}
			m["labels"] = labels
		}
		expanded[i] = m
	}
	out["conditions"] = expanded
	return out
}

func (f *caseFile) label(s string) string {
	if full, ok := f.Aliases[s]; ok {
		return full
	}
	return s
}

func (f *caseFile) labelList(names []string) []string {
	var out []string
	for _, n := range names {
		if set, ok := f.Labels[n]; ok {
			out = append(out, f.labelList(set)...)
			continue
		}
		out = append(out, f.label(n))
	}
	return out
}

type caseBuilder struct {
	f        *caseFile
	at       int64
	consents map[string]map[string]any
}

func (b caseBuilder) input(caller string, consents []string, labels []string, typ, source string) (Input, error) {
	c, ok := b.f.Callers[caller]
	if !ok {
		return Input{}, fmt.Errorf("no caller named %q", caller)
	}
	if typ == "" {
		typ = "Condition"
	}
	in := Input{
		Version: InputVersion,
		Caller: Caller{
			Subject: cmpOr(c.Subject, caller), Org: c.Org, OrgIdentifiers: nonNil(c.OrgIdentifiers),
			Scopes: []string{}, Purposes: nonNil(c.Purposes), FHIRUser: c.FHIRUser,
		},
		Request:  Request{Interaction: "search", Type: typ, TimeNS: b.at},
		Patient:  b.f.Patient,
		Consents: []any{},
		Item:     Item{Type: typ, Labels: nonNil(b.f.labelList(labels)), Source: source},
	}
	in.CallerIsPatient = c.FHIRUser != "" && c.FHIRUser == in.Patient
	if c.BreakGlass != "" {
		iat, err := tokenTime(b.at, c.IssuedAt, -time.Minute)
		if err != nil {
			return Input{}, fmt.Errorf("caller %q: issued_at: %w", caller, err)
		}
		exp, err := tokenTime(b.at, c.ExpiresAt, 14*time.Minute)
		if err != nil {
			return Input{}, fmt.Errorf("caller %q: expires_at: %w", caller, err)
		}
		in.Caller.BreakGlass = &BreakGlass{Reason: c.BreakGlass, IssuedAt: iat, ExpiresAt: exp}
	}
	for _, name := range consents {
		if name == "none" {
			continue
		}
		consent, ok := b.consents[name]
		if !ok {
			return Input{}, fmt.Errorf("no consent named %q", name)
		}
		in.Consents = append(in.Consents, consent)
	}
	return in, nil
}

func (b caseBuilder) single(c caseSpec) (Case, error) {
	in, err := b.input(c.Caller, c.Consents, c.Labels, c.Type, c.Source)
	if err != nil {
		return Case{}, err
	}
	if f := c.Facts; f != nil {
		in.Item.Facts = &ItemFacts{Codes: nonNil(f.Codes), Reference: f.Reference}
		if f.Time != "" {
			t, err := time.Parse(time.RFC3339, f.Time)
			if err != nil {
				return Case{}, fmt.Errorf("facts.time: %w", err)
			}
			ns := t.UnixNano()
			in.Item.Facts.TimeNS = &ns
		}
	}
	if c.CallerIsPatient != nil {
		in.CallerIsPatient = *c.CallerIsPatient
	}
	if c.Expect != Permit && c.Expect != Deny && c.Expect != Redact && c.Expect != Mask {
		return Case{}, fmt.Errorf("expect %q is not permit, deny, redact or mask", c.Expect)
	}
	return Case{
		Name: c.Name, Input: in, Effect: c.Expect, Obligations: b.labels(c.Obligations),
		Notices: c.Notices, BreakGlass: c.BreakGlass, Rules: c.Rules,
	}, nil
}

func (b caseBuilder) labels(names *[]string) *[]string {
	if names == nil {
		return nil
	}
	out := nonNil(b.f.labelList(*names))
	sort.Strings(out)
	return &out
}

func (b caseBuilder) grid(g gridSpec) ([]Case, error) {
	var out []Case
	none := []string{}
	for _, caller := range slices.Sorted(maps.Keys(g.Expect)) {
		effects := g.Expect[caller]
		if len(effects) != len(g.Columns) {
			return nil, fmt.Errorf("caller %q has %d effects for %d columns", caller, len(effects), len(g.Columns))
		}
		for i, col := range g.Columns {
			c := caseSpec{
				Name:   fmt.Sprintf("%s / %s / %s", g.Name, caller, col),
				Caller: caller, Consents: strings.Split(col, "+"), Labels: g.Labels,
				Type: g.Type, Source: g.Source, Expect: effects[i],
			}
			if effects[i] == Permit {
				c.Obligations, c.Notices = g.Obligations, g.Notices
			} else {
				c.Obligations, c.Notices = &none, &none
			}
			built, err := b.single(c)
			if err != nil {
				return nil, err
			}
			out = append(out, built)
		}
	}
	return out, nil
}

// Check compares a decision with what the case expects; "" when it holds.
func (c Case) Check(d Decision) string {
	var bad []string
	if d.Effect != c.Effect {
		bad = append(bad, fmt.Sprintf("effect %s, want %s", d.Effect, c.Effect))
	}
	if c.Obligations != nil {
		got := slices.Sorted(slices.Values(d.Obligations))
		if !slices.Equal(nonNil(got), *c.Obligations) {
			bad = append(bad, fmt.Sprintf("obligations %v, want %v", got, *c.Obligations))
		}
	}
	if c.Notices != nil {
		var got []string
		for _, n := range d.Notices {
			got = append(got, n.ID)
		}
		if !slices.Equal(nonNil(got), *c.Notices) {
			bad = append(bad, fmt.Sprintf("notices %v, want %v", got, *c.Notices))
		}
	}
	if c.BreakGlass != nil && d.BreakGlass != *c.BreakGlass {
		bad = append(bad, fmt.Sprintf("break_glass %v, want %v", d.BreakGlass, *c.BreakGlass))
	}
	for _, r := range c.Rules {
		if !slices.ContainsFunc(d.Reasons, func(x Reason) bool { return x.Rule == r }) {
			bad = append(bad, fmt.Sprintf("no reason with rule %s in %v", r, ruleNames(d.Reasons)))
		}
	}
	return strings.Join(bad, "; ")
}

func ruleNames(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Rule
	}
	return out
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	File, Name string
	Problem    string // empty when the case passed
}

// RunCases evaluates every case set of a policy tree against that tree's
// policy, with each set's policy data overrides applied.
func RunCases(ctx context.Context, fsys fs.FS) ([]CaseResult, error) {
	sets, err := LoadCases(fsys)
	if err != nil {
		return nil, err
	}
	schema, err := newCaseSchema(ctx, fsys)
	if err != nil {
		return nil, err
	}
	var out []CaseResult
	for _, set := range sets {
		tree, err := withData(fsys, set.Data)
		if err != nil {
			return nil, fmt.Errorf("policy: %s: %w", set.File, err)
		}
		eng, err := New(ctx, tree, WithDecisionCache(0))
		if err != nil {
			return nil, fmt.Errorf("policy: %s: %w", set.File, err)
		}
		for _, c := range set.Cases {
			r := CaseResult{File: set.File, Name: c.Name}
			if problems, err := schema.problems(ctx, c.Input); err != nil || len(problems) > 0 {
				// A consent of the file the proxy would never send (a
				// rule without depth, type Permit) is decided as
				// nothing the policy knows, and an expected deny passed
				// whatever the policy said (QA round 20).
				r.Problem = "the case's input does not match " + InputSchemaPath + ": " + strings.Join(problems, "; ")
				if err != nil {
					r.Problem += err.Error()
				}
				out = append(out, r)
				continue
			}
			d, err := eng.Decide(ctx, c.Input)
			if err != nil {
				r.Problem = err.Error()
			} else {
				r.Problem = c.Check(d)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// caseSchema checks the inputs of a case matrix against the tree's input
// schema, as the proxy's own inputs are made to match it.
type caseSchema struct {
	pq     *rego.PreparedEvalQuery // nil: the tree has no input schema
	values cache.InterQueryValueCache
	sum    [sha256.Size]byte // the schema file's
}

// validated remembers, for the life of the process, what a case input's
// check against an input schema found, by a hash of both: every check,
// build, test and policy load runs the case matrix again, almost always
// with the same files. Bounded: emptied when full.
var validated struct {
	sync.Mutex
	m map[[sha256.Size]byte][]string
}

const maxValidated = 1 << 14

func newCaseSchema(ctx context.Context, fsys fs.FS) (*caseSchema, error) {
	raw, err := fs.ReadFile(fsys, InputSchemaPath)
	if errors.Is(err, fs.ErrNotExist) {
		return &caseSchema{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("policy: reading %s: %w", InputSchemaPath, err)
	}
	var schema any
	if err := util.UnmarshalJSON(raw, &schema); err != nil {
		return nil, fmt.Errorf("policy: %s is not JSON: %w", InputSchemaPath, err)
	}
	// json.match_schema compiles its schema on every call unless it may
	// keep it in an inter-query value cache: with one, the schema is
	// compiled once per case matrix run instead of once per case (it was
	// a tenth of a policy check's CPU).
	cfg, err := cache.ParseCachingConfig(nil)
	if err != nil {
		return nil, err
	}
	values := cache.NewInterQueryValueCache(ctx, cfg)
	pq, err := rego.New(
		rego.Query("r := json.match_schema(input, data.schema)"),
		rego.Store(inmem.NewFromObject(map[string]any{"schema": schema})),
		rego.SetRegoVersion(ast.RegoV1),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy: %s: %w", InputSchemaPath, err)
	}
	return &caseSchema{pq: &pq, values: values, sum: sha256.Sum256(raw)}, nil
}

// problems lists where in does not match the schema.
func (s *caseSchema) problems(ctx context.Context, in Input) ([]string, error) {
	if s.pq == nil {
		return nil, nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(s.sum[:])
	h.Write(b)
	var key [sha256.Size]byte
	h.Sum(key[:0])
	validated.Lock()
	found, ok := validated.m[key]
	validated.Unlock()
	if ok {
		return slices.Clone(found), nil
	}
	var doc any
	if err := util.UnmarshalJSON(b, &doc); err != nil {
		return nil, err
	}
	rs, err := s.pq.Eval(ctx, rego.EvalInput(doc), rego.EvalInterQueryBuiltinValueCache(s.values))
	if err != nil {
		return nil, fmt.Errorf("validating against the schema: %w", err)
	}
	problems, err := schemaProblems(rs)
	if err != nil {
		return nil, err
	}
	validated.Lock()
	if validated.m == nil || len(validated.m) >= maxValidated {
		validated.m = map[[sha256.Size]byte][]string{}
	}
	validated.m[key] = slices.Clone(problems)
	validated.Unlock()
	return problems, nil
}

// withData overlays policy data overrides on ds4p/config/data.json.
func withData(fsys fs.FS, data map[string]any) (fs.FS, error) {
	if len(data) == 0 {
		return fsys, nil
	}
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		return nil, err
	}
	const config = "ds4p/config/data.json"
	f, ok := out[config]
	if !ok {
		return nil, fmt.Errorf("%s is missing", path.Clean(config))
	}
	var doc map[string]any
	if err := json.Unmarshal(f.Data, &doc); err != nil {
		return nil, err
	}
	maps.Copy(doc, data)
	if f.Data, err = json.Marshal(doc); err != nil {
		return nil, err
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tokenTime is unix seconds at an offset from at (unix ns), def when the
// offset is empty, 0 for "none".
func tokenTime(at int64, offset string, def time.Duration) (int64, error) {
	d := def
	switch offset {
	case "":
	case "none":
		return 0, nil
	default:
		var err error
		if d, err = time.ParseDuration(offset); err != nil {
			return 0, err
		}
	}
	return time.Unix(0, at).Add(d).Unix(), nil
}

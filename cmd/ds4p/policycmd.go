package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

const policyHelp = `Tools for the Rego policy, for compliance staff. Each works on the
embedded default policy, or on a policy directory (--dir, the layout of
` + "`ds4p policy export`" + `, the same as serve --policy-dir).

  ds4p policy export --dir DIR        write the default policy tree to DIR, to edit
  ds4p policy test   [--dir DIR]      run the Rego unit tests (as opa test) and the
                                      case matrix (cases/*.yaml)
  ds4p policy check  [--dir DIR]      compile, check opa fmt, run the Rego tests and
                                      the case matrix, and validate the policy data
                                      against its schema
  ds4p policy eval   --input FILE [--dir DIR]
                                      decide one policy input (schema/input.schema.json)
                                      and print the decision with its reasons
  ds4p policy build  --out FILE [--dir DIR] [--signing-key PEM] [--key-id ID]
                                      check the policy, then write it as an OPA bundle
                                      (signed with the private key when given: RSA,
                                      EC P-256, P-384, P-521 or Ed25519) for
                                      serve --policy-bundle-url`

// runPolicy is `ds4p policy test|check|eval|export|build`.
func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, args, stdout, stderr, "Usage: ds4p policy test|check|eval|export|build [flags]\n\n"+policyHelp, []subcommand{
		{"test", policyTest}, {"check", policyCheck}, {"eval", policyEval},
		{"export", policyExport}, {"build", policyBuild},
	})
}

// policyFlags parses --dir (and the extra flags registered by more) and
// returns the policy tree to work on.
func policyFlags(name, help string, args []string, stdout, stderr io.Writer, more func(*flag.FlagSet)) (fs.FS, error) {
	set := newFlagSet("policy "+name, help, stderr)
	if wantsHelp(args) {
		set.SetOutput(stdout)
	}
	dir := set.String("dir", "", "policy directory (default: the embedded policy)")
	if more != nil {
		more(set)
	}
	if err := parseFlags(set, args); err != nil {
		return nil, err
	}
	if err := noArgs(set); err != nil {
		return nil, err
	}
	if *dir == "" {
		// --dir "$POLICY_DIR" with the variable unset or empty checked,
		// tested or built the embedded policy and reported it passing,
		// as if it were the directory meant (QA round 27).
		given := false
		set.Visit(func(f *flag.Flag) { given = given || f.Name == "dir" })
		if given {
			return nil, usagef("--dir is empty: name the policy directory, or leave --dir out for the embedded policy")
		}
		return rego.FS(), nil
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--dir %q is not a directory", *dir)
	}
	return os.DirFS(*dir), nil
}

func policyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fsys, err := policyFlags("test", "Runs the Rego unit tests of the policy (as opa test) and its case matrix.", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	results, err := policy.RunTests(ctx, fsys)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if !r.Pass {
			failed++
			fmt.Fprintf(stdout, "FAIL %s.%s", r.Package, r.Name)
			if r.Err != nil {
				fmt.Fprintf(stdout, ": %v", r.Err)
			}
			fmt.Fprintln(stdout)
		}
	}
	fmt.Fprintf(stdout, "Rego tests: PASS %d/%d\n", len(results)-failed, len(results))
	cases, err := policy.RunCases(ctx, fsys)
	if err != nil {
		return err
	}
	caseFailed := 0
	for _, c := range cases {
		if c.Problem != "" {
			caseFailed++
			fmt.Fprintf(stdout, "FAIL %s: %s: %s\n", c.File, c.Name, c.Problem)
		}
	}
	fmt.Fprintf(stdout, "case matrix: PASS %d/%d\n", len(cases)-caseFailed, len(cases))
	// Nothing run is nothing shown: a policy without tests or cases must
	// not pass as one whose tests all pass.
	switch {
	case len(results) == 0:
		return errors.New("the policy has no Rego tests (rules named test_* in *_test.rego files)")
	case len(cases) == 0:
		return policy.ErrNoCases
	}
	switch {
	case failed > 0 && caseFailed > 0:
		return fmt.Errorf("%s and %s failed", plural(failed, "Rego test", "Rego tests"), plural(caseFailed, "case", "cases"))
	case failed > 0:
		return fmt.Errorf("%s failed", plural(failed, "Rego test", "Rego tests"))
	case caseFailed > 0:
		return fmt.Errorf("%s failed", plural(caseFailed, "case", "cases"))
	}
	return nil
}

func policyCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fsys, err := policyFlags("check", "Compiles the policy, checks that opa fmt would not change it, runs its Rego tests and case matrix and validates its policy data against schema/config.schema.json.", args, stdout, stderr, nil)
	if err != nil {
		return err
	}
	problems, err := policy.Check(ctx, fsys)
	if err != nil {
		return err
	}
	rev, err := policy.Revision(fsys)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "%s: %s\n", p.Stage, p.Message)
	}
	if len(problems) > 0 {
		return fmt.Errorf("revision %s has %s; do not roll it out", rev, plural(len(problems), "problem", "problems"))
	}
	fmt.Fprintf(stdout, "policy revision %s: compiles, answers its decision, formatted, Rego tests and case matrix pass, policy data valid\n", rev)
	// Which evaluator serve would use: a change that the interpreter cannot
	// run still works, only slower, and the author should know.
	eng, err := policy.New(ctx, fsys, policy.WithDecisionCache(0))
	if err != nil {
		return err
	}
	if ev := eng.Status().Evaluator; ev == policy.EvaluatorIR {
		fmt.Fprintln(stdout, "evaluator: ir (OPA's plan of the policy, interpreted; checked against OPA's evaluator on the case inputs)")
	} else {
		fmt.Fprintf(stdout, "evaluator: %s\n  decisions will be correct but several times slower; see rego/README.md, \"How decisions are evaluated\"\n", ev)
	}
	// Whether decisions can be reused at later request times: a rule that
	// uses the time in a way the interpreter does not follow stays correct
	// but makes its decisions evaluated again for every request.
	tr, err := eng.TimeReuse(ctx, fsys)
	switch {
	case err != nil:
		return err
	case tr.Lost == "":
		fmt.Fprintf(stdout, "decision reuse: across requests (the interpreter follows the policy's use of the request time in %s of the case inputs)\n", allOf(tr.Evaluations, "evaluation", "evaluations"))
	default:
		fmt.Fprintf(stdout, "decision reuse: some decisions hold for their own request only: %s\n  they are correct, but evaluated again for every request; see rego/README.md, \"Decisions reused across requests, and the time\"\n", tr.Lost)
	}
	// What decisions cost, so that a change that makes them much dearer
	// shows before it serves.
	if eng.Status().Evaluator != policy.EvaluatorIR {
		return nil
	}
	cost, err := eng.Cost(ctx, fsys, costRounds)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cost on the %s, as the proxy decides them (rule calls and instructions, the same on every machine, then time on this machine, fastest of %s each):\n", plural(cost.Cases, "case input", "case inputs"), plural(costRounds, "run", "runs"))
	fmt.Fprintf(stdout, "  a response's first decision about a patient: median %s, %s, %s; at most %s, %s, %s (case %q)\n",
		plural(cost.First.MedianCalls, "call", "calls"), plural(cost.First.MedianInstructions, "instruction", "instructions"), micros(cost.First.Median),
		plural(cost.First.MaxCalls, "call", "calls"), plural(cost.First.MaxInstructions, "instruction", "instructions"), micros(cost.First.Max), cost.Slowest)
	fmt.Fprintf(stdout, "  later decisions of the response: median %s, %s, %s; at most %s, %s, %s\n",
		plural(cost.Later.MedianCalls, "call", "calls"), plural(cost.Later.MedianInstructions, "instruction", "instructions"), micros(cost.Later.Median),
		plural(cost.Later.MaxCalls, "call", "calls"), plural(cost.Later.MaxInstructions, "instruction", "instructions"), micros(cost.Later.Max))
	return nil
}

// costRounds is how many times `policy check` decides each case input
// for its cost line: the fastest run is reported.
const costRounds = 20

// micros formats d in microseconds.
func micros(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Nanoseconds())/1e3, 'f', 1, 64) + " µs"
}

func policyEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var input *string
	fsys, err := policyFlags("eval", "Decides one policy input (JSON, see schema/input.schema.json; - reads stdin) and prints the decision, its reasons and the policy revision.", args, stdout, stderr, func(set *flag.FlagSet) {
		input = set.String("input", "", "policy input file (JSON), - for stdin; required")
	})
	if err != nil {
		return err
	}
	if *input == "" {
		return usagef("--input is required")
	}
	raw, err := readPolicyInput(*input)
	if err != nil {
		return err
	}
	in, err := parsePolicyInput(ctx, fsys, raw)
	if err != nil {
		return err
	}
	eng, err := policy.New(ctx, fsys, policy.WithDecisionCache(0))
	if err != nil {
		return err
	}
	d, err := eng.Decide(ctx, in)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	// The decision of policy data a reload refuses is not the proxy's:
	// eval answered "permit" for an R item under data whose
	// restricted_confidentiality label was misspelt, while serve kept the
	// revision in force (QA round 27).
	problems, err := policy.ValidateData(ctx, fsys)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("this decision is not what the proxy would answer: it refuses this policy data (%s); run ds4p policy check", strings.Join(problems, "; "))
	}
	return nil
}

func readPolicyInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// parsePolicyInput validates raw against the tree's input schema (when it
// has one) and decodes it.
func parsePolicyInput(ctx context.Context, fsys fs.FS, raw []byte) (policy.Input, error) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return policy.Input{}, fmt.Errorf("the input is not JSON: %w", err)
	}
	if _, err := fs.Stat(fsys, policy.InputSchemaPath); err == nil {
		problems, err := policy.ValidateInput(ctx, fsys, doc)
		if err != nil {
			return policy.Input{}, err
		}
		if len(problems) > 0 {
			return policy.Input{}, fmt.Errorf("the input does not match %s: %s", policy.InputSchemaPath, strings.Join(problems, "; "))
		}
	}
	var in policy.Input
	if err := json.Unmarshal(raw, &in); err != nil {
		return policy.Input{}, err
	}
	return in, nil
}

func policyExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	set := newFlagSet("policy export", "Writes the embedded default policy tree (Rego, tests, policy data, case matrix, schemas) to a new directory, to edit and serve with --policy-dir.", stderr)
	if wantsHelp(args) {
		set.SetOutput(stdout)
	}
	dir := set.String("dir", "", "directory to create; required")
	if err := parseFlags(set, args); err != nil {
		return err
	}
	if err := noArgs(set); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s exists and is not empty", *dir)
	}
	if err := os.CopyFS(*dir, rego.FS()); err != nil {
		return err
	}
	var files []string
	_ = fs.WalkDir(rego.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	fmt.Fprintf(stdout, "wrote %s to %s; serve it with: ds4p serve --policy-dir %s\n", plural(len(files), "file", "files"), *dir, *dir)
	return nil
}

// policyBuild is `ds4p policy build`: the policy tree, verified as serve
// would verify it (compiles, passes its Rego tests, valid policy data), as
// an OPA bundle, signed when a key is given.
func policyBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out, key, keyID, alg *string
	var flags *flag.FlagSet
	fsys, err := policyFlags("build", "Checks the policy and writes it as an OPA bundle (gzipped tarball) for serve --policy-bundle-url, signed when --signing-key is given.\n"+
		"The key's type chooses the signature algorithm: "+bundleKeyTypes+";\n"+
		"serve verifies with the public key (policy.bundle_public_key) and the same algorithm.", args, stdout, stderr, func(fs *flag.FlagSet) {
		out = fs.String("out", "", "bundle file to write (e.g. bundle.tar.gz), replaced whole or not at all; - for standard output; required")
		key = fs.String("signing-key", "", "PEM private key to sign the bundle with (OPA bundle signing): "+bundleKeyTypes)
		keyID = fs.String("key-id", "default", "key id of the signature (serve's policy.bundle_key_id); needs --signing-key")
		alg = fs.String("signing-alg", "", "JWS algorithm of the signature: the one the key's type implies (the default), the only one serve verifies; needs --signing-key")
		flags = fs
	})
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	// A signing flag without the key would write an unsigned bundle that a
	// fleet verifying signatures refuses: say so now.
	given := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range []string{"key-id", "signing-alg"} {
		if given[name] && *key == "" {
			return usagef("--%s needs --signing-key: without it the bundle is not signed", name)
		}
	}
	var signing *policy.BundleSigning
	if *key != "" {
		raw, err := os.ReadFile(*key)
		if err != nil {
			return err
		}
		pemKey, keyAlg, err := bundleSigningKey(raw)
		if err != nil {
			return fmt.Errorf("--signing-key %s: %w", *key, err)
		}
		if *alg != "" && *alg != keyAlg {
			return fmt.Errorf("--signing-alg %s: this key signs with %s, the algorithm serve verifies its signatures with (keys: %s)", *alg, keyAlg, bundleKeyTypes)
		}
		signing = &policy.BundleSigning{PrivateKeyPEM: pemKey, KeyID: *keyID, Algorithm: keyAlg}
	}
	if err := policy.Verify(ctx, fsys); err != nil {
		return err
	}
	// The case matrix gates a fleet's rollout as it gates check.
	cases, err := policy.RunCases(ctx, fsys)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		return policy.ErrNoCases
	}
	for _, c := range cases {
		if c.Problem != "" {
			return fmt.Errorf("case matrix: %s: %s: %s (ds4p policy test lists every failing case)", c.File, c.Name, c.Problem)
		}
	}
	b, err := policy.BuildBundle(fsys, signing)
	if err != nil {
		return err
	}
	// Replaced whole or not at all: a file server handing the bundle to a
	// fleet while it is written, or a write that fails (a full disk), would
	// otherwise serve a truncated bundle in place of the last good one. A
	// symbolic link is followed, as a write in place followed it: the file
	// it names is replaced, and the link kept (QA round 36, area G).
	target := *out
	if fi, err := os.Lstat(target); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(target); err != nil {
			return fmt.Errorf("--out %s: %w", *out, err)
		}
	}
	if err := writeOutMode(target, "", 0o644, stdout, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return err
	}
	rev, _ := policy.Revision(fsys)
	signed := "unsigned"
	if signing != nil {
		signed = "signed with " + signing.Algorithm + ", key id " + *keyID
	}
	report, name := stdout, *out
	if *out == "-" { // the bundle went to standard output
		report, name = stderr, "the bundle to standard output"
	}
	fmt.Fprintf(report, "wrote %s (%d bytes, manifest revision %s, %s)\n", name, len(b), rev, signed)
	return nil
}

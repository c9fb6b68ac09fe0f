package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestPolicyCommands exports the default policy, checks, tests and
// evaluates it, then breaks its policy data and sees check fail.
func TestPolicyCommands(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "policy")
	if code, out, errOut := ds4p(t, "policy", "export", "--dir", dir); code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	if code, _, _ := ds4p(t, "policy", "export", "--dir", dir); code == 0 {
		t.Fatal("export over a non-empty directory succeeded")
	}
	if code, out, errOut := ds4p(t, "policy", "check", "--dir", dir); code != 0 || !strings.Contains(out, "case matrix pass") || !strings.Contains(out, "evaluator: ir") ||
		!strings.Contains(out, "a response's first decision about a patient: median ") || !strings.Contains(out, "later decisions of the response: median ") {
		t.Fatalf("check: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := ds4p(t, "policy", "test", "--dir", dir); code != 0 || !strings.Contains(out, "case matrix: PASS") {
		t.Fatalf("test: %d %s %s", code, out, errOut)
	}
	code, out, errOut := ds4p(t, "policy", "eval", "--dir", dir, "--input", filepath.Join(dir, "schema/examples/part2-consented.input.json"))
	var d struct {
		Effect      string
		Obligations []string
		Revision    string
	}
	if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil || d.Effect != "permit" || len(d.Obligations) != 2 || d.Revision == "" {
		t.Fatalf("eval: %d %s %s", code, out, errOut)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version":"1","caller":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := ds4p(t, "policy", "eval", "--input", bad); code == 0 || !strings.Contains(errOut, "does not match") {
		t.Fatalf("eval of an invalid input: %d %s", code, errOut)
	}

	// A rule changed through policy data without its matrix row: check
	// (and build, which checks first) fail, naming the row.
	table := filepath.Join(dir, "ds4p/config/state_law/data.json")
	b, _ := os.ReadFile(table)
	mh := `"law": "State mental health confidentiality laws: disclosure for treatment, otherwise with consent",
      "without_consent": ["TREAT", "ETREAT"]`
	if !strings.Contains(string(b), mh) {
		t.Fatal("the mental health row of the state-law table moved; update this test")
	}
	if err := os.WriteFile(table, []byte(strings.Replace(string(b), mh, strings.Replace(mh, `"TREAT", `, "", 1), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := ds4p(t, "policy", "check", "--dir", dir); code == 0 || !strings.Contains(out, "cases: ") || !strings.Contains(out, "matrix.yaml") {
		t.Fatalf("check of a change the case matrix does not expect: %d %s", code, out)
	}
	if code, _, _ := ds4p(t, "policy", "build", "--dir", dir, "--out", filepath.Join(t.TempDir(), "b.tar.gz")); code == 0 {
		t.Fatal("build of a change the case matrix does not expect succeeded")
	}

	broken := strings.Replace(string(b), `"without_consent": ["TREAT", "ETREAT"]`, `"without_consent": "TREAT"`, 1)
	if err := os.WriteFile(table, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := ds4p(t, "policy", "check", "--dir", dir); code == 0 || !strings.Contains(out, "data: ") {
		t.Fatalf("check of invalid policy data: %d %s", code, out)
	}
	if code, _, _ := ds4p(t, "policy", "frobnicate"); code == 0 {
		t.Fatal("an unknown subcommand succeeded")
	}
}

// A policy the interpreter cannot run passes check, which says that it
// will be evaluated by OPA's evaluator and why.
func TestPolicyCheckNamesTheEvaluator(t *testing.T) {
	mod := "package ds4p\n\ndecision := d if {\n\td := base with input.item.type as \"Patient\"\n}\n\nbase := {\"effect\": \"permit\", \"reasons\": [{\"rule\": input.item.type}]}\n"
	dir := smallPolicy(t, mod)
	code, out, errOut := ds4p(t, "policy", "check", "--dir", dir)
	if code != 0 || !strings.Contains(out, "evaluator: topdown: ") || !strings.Contains(out, "with") {
		t.Fatalf("check: %d %s %s", code, out, errOut)
	}
}

// policy check says whether decisions can be reused at later request
// times: yes for the default policy; for one that does arithmetic on the
// time, no, naming a case and the built-in.
func TestPolicyCheckSaysWhetherDecisionsAreReused(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "policy")
	if code, out, errOut := ds4p(t, "policy", "export", "--dir", dir); code != 0 {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := ds4p(t, "policy", "check", "--dir", dir); code != 0 || !strings.Contains(out, "decision reuse: across requests") {
		t.Fatalf("check: %d %s %s", code, out, errOut)
	}
	path := filepath.Join(dir, "ds4p", "ordinary.rego")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "ordinary_allowed if {\n", "ordinary_allowed if {\n\tinput.request.time_ns + 0 >= 0\n", 1)
	if edited == string(b) {
		t.Fatal("ordinary_allowed not found")
	}
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := ds4p(t, "policy", "check", "--dir", dir)
	if code != 0 || !strings.Contains(out, "decision reuse: some decisions hold for their own request only: case ") || !strings.Contains(out, "passed to plus") {
		t.Fatalf("check: %d %s %s", code, out, errOut)
	}
}

// smallPolicy writes a policy directory that passes check around the
// module mod (package ds4p): the default policy data (check validates it
// against the schema), a Rego test that data.ds4p.decision permits, and a
// case matrix of one case expecting a permit.
func smallPolicy(t *testing.T, mod string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"ds4p/main.rego":      mod,
		"ds4p/main_test.rego": "package ds4p_test\n\ntest_permits if data.ds4p.decision.effect == \"permit\"\n",
		"cases/matrix.yaml": `time: "2026-01-01T00:00:00Z"
callers:
  a-treat: {org: Organization/org-a, purposes: [TREAT]}
cases:
  - {name: a treating caller, caller: a-treat, expect: permit}
`,
	}
	for _, name := range []string{"ds4p/config/data.json", "ds4p/config/state_law/data.json"} {
		b, err := fs.ReadFile(rego.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPolicyCommandsRefuseNothingToShow: check, test and build passed a
// policy without Rego tests or without a case matrix ("PASS 0/0"), and one
// defining no data.ds4p.decision, which then failed every request; each
// now fails, saying why.
func TestPolicyCommandsRefuseNothingToShow(t *testing.T) {
	t.Parallel()
	permit := "package ds4p\n\ndecision := {\"effect\": \"permit\", \"reasons\": []}\n"
	dir := smallPolicy(t, permit)
	if code, out, errOut := ds4p(t, "policy", "check", "--dir", dir); code != 0 {
		t.Fatalf("check of the small policy: %d %s %s", code, out, errOut)
	}
	build := func(dir string) (int, string) {
		code, _, errOut := ds4p(t, "policy", "build", "--dir", dir, "--out", filepath.Join(t.TempDir(), "b.tar.gz"))
		return code, errOut
	}

	noTests := smallPolicy(t, permit)
	if err := os.Remove(filepath.Join(noTests, "ds4p", "main_test.rego")); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := ds4p(t, "policy", "check", "--dir", noTests); code == 0 || !strings.Contains(out, "test: policy: the policy has no Rego tests") {
		t.Errorf("check without Rego tests: %d %s", code, out)
	}
	if code, _, errOut := ds4p(t, "policy", "test", "--dir", noTests); code == 0 || !strings.Contains(errOut, "no Rego tests") {
		t.Errorf("test without Rego tests: %d %s", code, errOut)
	}
	if code, errOut := build(noTests); code == 0 || !strings.Contains(errOut, "no Rego tests") {
		t.Errorf("build without Rego tests: %d %s", code, errOut)
	}

	noCases := smallPolicy(t, permit)
	if err := os.RemoveAll(filepath.Join(noCases, "cases")); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := ds4p(t, "policy", "check", "--dir", noCases); code == 0 || !strings.Contains(out, "cases: policy: the case matrix is empty") {
		t.Errorf("check without cases: %d %s", code, out)
	}
	if code, _, errOut := ds4p(t, "policy", "test", "--dir", noCases); code == 0 || !strings.Contains(errOut, "case matrix is empty") {
		t.Errorf("test without cases: %d %s", code, errOut)
	}
	if code, errOut := build(noCases); code == 0 || !strings.Contains(errOut, "case matrix is empty") {
		t.Errorf("build without cases: %d %s", code, errOut)
	}

	noDecision := smallPolicy(t, "package ds4p\n\nnot_the_decision := 1\n")
	if err := os.WriteFile(filepath.Join(noDecision, "ds4p", "main_test.rego"), []byte("package ds4p_test\n\ntest_one if data.ds4p.not_the_decision == 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := ds4p(t, "policy", "check", "--dir", noDecision); code == 0 || !strings.Contains(out, "decision: policy: no rule defines data.ds4p.decision") {
		t.Errorf("check without a decision rule: %d %s", code, out)
	}
	if code, errOut := build(noDecision); code == 0 || !strings.Contains(errOut, "no rule defines data.ds4p.decision") {
		t.Errorf("build without a decision rule: %d %s", code, errOut)
	}
}

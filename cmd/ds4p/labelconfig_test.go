package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

func TestLabelsConfigValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("topic: X\nsources: [s]\nrules:\n  - id: a\n    system: s\n    labels: [R]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lc := LabelsConfig{RulesDir: dir, Part2Programs: []Part2Program{{Name: "p", References: []string{"Organization"}}}}
	err := joinErrs(lc.validate())
	for _, want := range []string{`bad.yaml:4: rule "a": no codes`, `"Organization" is not Type/id`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v; want %q", err, want)
		}
	}
	good := LabelsConfig{Part2Programs: []Part2Program{synthPart2Program()}}
	if errs := good.validate(); len(errs) > 0 {
		t.Fatalf("synthetic program rejected: %v", errs)
	}
	if _, err := good.labeller(); err != nil {
		t.Fatal(err)
	}
}

func TestLabelCommand(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "in.ndjson")
	lines := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}` + "\n" +
		`{"resourceType":"MedicationRequest","id":"m1","reasonReference":[{"reference":"Condition/c1"}]}` + "\n"
	if err := os.WriteFile(in, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := runLabel(t.Context(), []string{"-why", in}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) != 2 || !strings.Contains(got[1], `"code":"SUD"`) {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "2 resources, 2 labelled") || !strings.Contains(errOut.String(), "propagated:reasonReference") {
		t.Fatalf("summary:\n%s", errOut.String())
	}
	// The rules revision serve records in the ledger, to compare with.
	if !strings.Contains(errOut.String(), "label rules revision "+labels.Default().Revision()) {
		t.Fatalf("summary:\n%s\nwant the embedded rules' revision %s", errOut.String(), labels.Default().Revision())
	}
}

// TestLabelCommandFlagsAfterFile: the usage line writes flags after FILE
// (`ds4p label FILE -o OUT -why`); Go's flag parsing stopped at FILE, so that
// spelling was a usage error (QA round 18). Two files still are.
func TestLabelCommandFlagsAfterFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in, outFile := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(in, []byte(`{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := runLabel(t.Context(), []string{in, "-o", outFile, "-why"}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if b, err := os.ReadFile(outFile); err != nil || !strings.Contains(string(b), `"code":"SUD"`) {
		t.Fatalf("output file: %v %s", err, b)
	}
	if !strings.Contains(errOut.String(), "1 resource") || !strings.Contains(errOut.String(), "F11") {
		t.Fatalf("summary without -why's reasons:\n%s", errOut.String())
	}
	var ue *usageError
	if err := runLabel(t.Context(), []string{in, in}, &out, &errOut); !errors.As(err, &ue) {
		t.Fatalf("two files: %v, want a usage error", err)
	}
}

// TestLabelCommandNestedBundles: the entries of a Bundle nested in a
// Bundle (a document in a collection) are labelled one by one, with labels
// propagating across the levels; the nested Bundle was labelled as one
// resource, its entries left unlabelled. Nesting past the bound is an error.
func TestLabelCommandNestedBundles(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "in.json")
	cond := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	doc := `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","id":"comp"}},{"resource":` + cond + `}]}`
	med := `{"resourceType":"MedicationRequest","id":"m1","reasonReference":[{"reference":"Condition/c1"}]}`
	body := `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + doc + `},{"resource":` + med + `}]}`
	if err := os.WriteFile(in, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := runLabel(t.Context(), []string{in}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "3 resources, 2 labelled") {
		t.Fatalf("summary:\n%s", errOut.String())
	}
	var got struct {
		Entry []struct {
			Resource struct {
				Meta  struct{ Security []struct{ Code string } }
				Entry []struct {
					Resource struct {
						ID   string
						Meta struct{ Security []struct{ Code string } }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatal(err)
	}
	codes := func(sec []struct{ Code string }) (out []string) {
		for _, s := range sec {
			out = append(out, s.Code)
		}
		return out
	}
	if len(got.Entry) != 2 || len(got.Entry[0].Resource.Entry) != 2 ||
		!slices.Contains(codes(got.Entry[0].Resource.Entry[1].Resource.Meta.Security), "SUD") ||
		!slices.Contains(codes(got.Entry[1].Resource.Meta.Security), "SUD") ||
		len(got.Entry[0].Resource.Meta.Security) != 0 {
		t.Fatalf("output:\n%s", out.String())
	}
	deep := cond
	for range maxBundleDepth + 1 {
		deep = `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + deep + `}]}`
	}
	if err := os.WriteFile(in, []byte(deep), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := runLabel(t.Context(), []string{in}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("Bundles nested %d deep: %v, want an error", maxBundleDepth+1, err)
	}
}

// TestRejectedRuleReloadWarns: a rule file change that does not load keeps
// the previous rules and shows as a Degraded readiness problem (warn) that
// names the file and line, until a good change loads.
func TestRejectedRuleReloadWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hiv, err := fs.ReadFile(labels.EmbeddedRules(), "hiv.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hiv.yaml")
	if err := os.WriteFile(path, hiv, 0o600); err != nil {
		t.Fatal(err)
	}
	lc := LabelsConfig{RulesDir: dir}
	l, err := lc.labeller()
	if err != nil {
		t.Fatal(err)
	}
	check := lc.watchRules(t.Context(), l, slog.New(slog.DiscardHandler))
	if check == nil || !passes(check(t.Context())) {
		t.Fatal("no check, or a problem before any change")
	}
	waitFor := func(ok func(error) bool) error {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			err := check(t.Context())
			if ok(err) {
				return err
			}
			if time.Now().After(deadline) {
				t.Fatalf("the check never reached the expected state; last: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	bad := strings.Replace(string(hiv), "labels: [HIV, R]", "labels: [HIVX, R]", 1)
	if bad == string(hiv) {
		t.Fatal("hiv.yaml changed: no `labels: [HIV, R]` to break")
	}
	// Replaced whole, as an editor saves it: os.WriteFile truncates
	// first, and a reload that read the empty file failed with "no
	// rules" before the one that read the bad rule (CI, once).
	if err := replaceFile(path, []byte(bad)); err != nil {
		t.Fatal(err)
	}
	err = waitFor(func(err error) bool { return !passes(err) && strings.Contains(err.Error(), `did you mean "HIV"`) })
	var d interface{ Degraded() bool }
	if !errors.As(err, &d) || !d.Degraded() || !strings.Contains(err.Error(), "hiv.yaml") || !strings.Contains(err.Error(), `did you mean "HIV"`) {
		t.Fatalf("check after a bad change: %v", err)
	}
	if err := replaceFile(path, append(hiv, '\n')); err != nil {
		t.Fatal(err)
	}
	waitFor(passes)
}

// replaceFile writes b to path through a file beside it and a rename, so
// that a reader sees the old content or the new, never a part.
func replaceFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// passes: a readiness check passed, with or without detail.
func passes(err error) bool {
	var p interface{ Passing() bool }
	return err == nil || errors.As(err, &p) && p.Passing()
}

// TestDroppedRuleTopicWarns: a reload that loses a topic (sud.yaml
// deleted) is "warn" naming the topic, and a passing check names the
// rules revision, which changes with the rule files and the programs.
func TestDroppedRuleTopicWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"hiv.yaml", "sud.yaml"} {
		b, err := fs.ReadFile(labels.EmbeddedRules(), name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lc := LabelsConfig{RulesDir: dir}
	l, err := lc.labeller()
	if err != nil {
		t.Fatal(err)
	}
	check := lc.watchRules(t.Context(), l, slog.New(slog.DiscardHandler))
	before := check(t.Context())
	if !passes(before) || before == nil || !strings.Contains(before.Error(), "label rules revision ") {
		t.Fatalf("before any change: %v, want a pass naming the revision", before)
	}
	withProgram := LabelsConfig{RulesDir: dir, Part2Programs: []Part2Program{synthPart2Program()}}
	if lp, err := withProgram.labeller(); err != nil || lp.Revision() == l.Revision() {
		t.Errorf("the revision does not change with the Part 2 programs (%v)", err)
	}
	if !strings.Contains(before.Error(), l.Revision()) {
		t.Errorf("before any change: %v, want the labeller's revision %s", before, l.Revision())
	}
	revBefore := l.Revision()
	if err := os.Remove(filepath.Join(dir, "sud.yaml")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err = check(t.Context())
		if !passes(err) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var d interface{ Degraded() bool }
	if !errors.As(err, &d) || !d.Degraded() || !strings.Contains(err.Error(), "without the topics SUD") {
		t.Fatalf("after sud.yaml was deleted: %v, want a warning naming SUD", err)
	}
	if l.Revision() == revBefore || !strings.Contains(err.Error(), "(revision "+l.Revision()+")") {
		t.Errorf("after sud.yaml was deleted: %v, want the new revision (was %s, now %s)", err, revBefore, l.Revision())
	}
}

package labels_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// QA round 18: rule files that did nothing loaded without a word.

func writeRules(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const sudFile = "topic: SUD\nsources: [x]\nrules:\n  - id: sud\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    ranges: [[F10, F19]]\n    labels: [SUD, R]\n"

func TestRuleFileSecondDocumentRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRules(t, dir, "all.yaml", strings.Replace(sudFile, "SUD", "MH", 2)+"---\n"+sudFile)
	_, err := labels.LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "all.yaml:8: a second YAML document") {
		t.Fatalf("a file of two documents: %v, want it refused at line 8 (---)", err)
	}
	writeRules(t, dir, "all.yaml", sudFile+"---\n")
	if _, err := labels.LoadDir(dir); err != nil {
		t.Errorf("a trailing document marker: %v", err)
	}
}

func TestRuleFileCodesAndTypesChecked(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ rule, want string }{
		{`codes: [" F12.20"]`, `code " F12.20" has white space around it`},
		{`codes: ["F12.20 "]`, `code "F12.20 " has white space around it`},
		{`prefixes: [" F12"]`, `prefix " F12" has white space around it`},
		{`ranges: [["F10 ", F19]]`, `range bound "F10 " has white space around it`},
		{`codes: [F12.20]` + "\n    exclude: [\" F12.21\"]", `exclude " F12.21" has white space`},
		{`codes: [F12.20]` + "\n    types: [Conditon]", `type "Conditon" is not a FHIR R4 resource type (did you mean "Condition"?)`},
		{`codes: [F12.20]` + "\n    types: [condition]", `did you mean "Condition"?`},
		{`codes: [F12.20]` + "\n    types: [Widget]", `type "Widget" is not a FHIR R4 resource type`},
	} {
		dir := t.TempDir()
		writeRules(t, dir, "sud.yaml", "topic: SUD\nsources: [x]\nrules:\n  - id: sud\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    "+c.rule+"\n    labels: [SUD, R]\n")
		_, err := labels.LoadDir(dir)
		if err == nil || !strings.Contains(err.Error(), "sud.yaml:4: rule \"sud\": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.rule, err, c.want)
		}
	}
	dir := t.TempDir()
	writeRules(t, dir, "sud.yaml", strings.Replace(sudFile, "    labels:", "    types: [Condition, MedicationRequest]\n    labels:", 1))
	if _, err := labels.LoadDir(dir); err != nil {
		t.Errorf("good types: %v", err)
	}
}

func TestRuleFileUnknownSystemWarns(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ system, want string }{
		{"http://hl7.org/fhir/sid/icd10-cm", `did you mean "http://hl7.org/fhir/sid/icd-10-cm"`},
		{"http://hl7.org/fhir/sid/icd-10-cn", `did you mean "http://hl7.org/fhir/sid/icd-10-cm"`},
		{"http://riverside.example/codes/dx", `system "http://riverside.example/codes/dx" is not a known clinical code system`},
	} {
		dir := t.TempDir()
		writeRules(t, dir, "sud.yaml", strings.Replace(sudFile, "http://hl7.org/fhir/sid/icd-10-cm", c.system, 1))
		rf, err := labels.ReadRulesDir(dir)
		if err != nil {
			t.Errorf("%s: %v: a local system loads", c.system, err)
			continue
		}
		if len(rf.Warnings) != 1 || !strings.HasPrefix(rf.Warnings[0], `sud.yaml:4: rule "sud": `) || !strings.Contains(rf.Warnings[0], c.want) {
			t.Errorf("%s: warnings %q, want %q", c.system, rf.Warnings, c.want)
		}
	}
	// Spellings the matcher reads as a known system match: no warning.
	for _, sys := range []string{`"2.16.840.1.113883.6.96"`, "urn:oid:2.16.840.1.113883.6.90", "https://snomed.info/sct", "http://loinc.org/",
		`"http://snomed.info/sct|2024"`, "http://LOINC.org"} {
		dir := t.TempDir()
		writeRules(t, dir, "sud.yaml", strings.Replace(sudFile, "http://hl7.org/fhir/sid/icd-10-cm", sys, 1))
		if rf, err := labels.ReadRulesDir(dir); err != nil || len(rf.Warnings) != 0 {
			t.Errorf("%s: %v, warnings %q: it matches as the known system", sys, err, rf.Warnings)
		}
	}
	rf, err := labels.ReadRules(labels.EmbeddedRules())
	if err != nil || len(rf.Warnings) != 0 || len(rf.Revision) != 32 || !slices.Contains(rf.Topics, "SUD") {
		t.Errorf("shipped rules: err %v, warnings %q, revision %q, topics %v", err, rf.Warnings, rf.Revision, rf.Topics)
	}
}

func TestRuleFileTooLargeRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRules(t, dir, "sud.yaml", sudFile)
	f, err := os.Create(filepath.Join(dir, "big.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(labels.MaxRuleFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := labels.LoadDir(dir); err == nil || !strings.Contains(err.Error(), "big.yaml: larger than 32 MiB") {
		t.Errorf("a 32 MiB + 1 file: %v", err)
	}
}

// reloads collects what Watch reports.
type reloads struct {
	mu  sync.Mutex
	all []labels.Reload
}

func (r *reloads) add(x labels.Reload) { r.mu.Lock(); r.all = append(r.all, x); r.mu.Unlock() }

func (r *reloads) wait(t *testing.T, n int) labels.Reload {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		if len(r.all) >= n {
			x := r.all[n-1]
			r.mu.Unlock()
			return x
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no report %d", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWatchSameSizeAndTime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "sud.yaml")
	body := func(prefix string) string {
		return "topic: SUD\nsources: [x]\nrules:\n  - id: sud\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    prefixes: [" + prefix + "]\n    labels: [SUD, R]\n"
	}
	writeRules(t, dir, "sud.yaml", body("F10"))
	rules, err := labels.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := labels.New(rules...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got reloads
	go labels.Watch(ctx, l, dir, 10*time.Millisecond, func(n int, err error) { got.add(labels.Reload{Rules: n, Err: err}) })
	got.wait(t, 1) // the first poll
	// rsync -a, cp -p: the same size, the modification time kept. Written
	// aside and renamed into place, so the 10 ms poll never reads half a
	// file (which it would report, as it should).
	replace := func(dir, body string) {
		t.Helper()
		tmp := filepath.Join(dir, "sud.yaml.tmp")
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(tmp, st.ModTime(), st.ModTime()); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "sud.yaml")); err != nil {
			t.Fatal(err)
		}
	}
	replace(dir, body("F11"))
	if r := got.wait(t, 2); r.Err != nil {
		t.Fatal(r.Err)
	}
	if p := l.Rules()[0].Prefixes; !slices.Equal(p, []string{"F11"}) {
		t.Errorf("rules in use after a same-size, same-time edit: %v", p)
	}
	// The directory gone (renamed away at once): reported, once, and the
	// rules in use stay.
	gone := dir + "-gone"
	if err := os.Rename(dir, gone); err != nil {
		t.Fatal(err)
	}
	if r := got.wait(t, 3); r.Err == nil {
		t.Error("a removed rule directory was not reported")
	}
	// Once, not every poll (ten polls pass): twice at most, when a poll
	// listed the directory just before it went and read it just after.
	time.Sleep(100 * time.Millisecond)
	got.mu.Lock()
	absent := slices.Clone(got.all[2:])
	got.mu.Unlock()
	if len(absent) > 2 || len(l.Rules()) != 1 || !slices.Equal(l.Rules()[0].Prefixes, []string{"F11"}) {
		t.Errorf("%d reports while the directory was gone (want 1, at most 2), rules in use %v", len(absent), l.Rules())
	}
	for _, r := range absent {
		if r.Err == nil {
			t.Errorf("a report without error while the directory was gone: %+v", r)
		}
	}
	// Back again, changed: loaded, and reported as such.
	replace(gone, body("F12"))
	if err := os.Rename(gone, dir); err != nil {
		t.Fatal(err)
	}
	if r := got.wait(t, 3+len(absent)); r.Err != nil {
		t.Errorf("directory back: %v", r.Err)
	}
	if p := l.Rules()[0].Prefixes; !slices.Equal(p, []string{"F12"}) {
		t.Errorf("rules in use after the directory came back: %v", p)
	}
}

func TestWatchReportsDroppedTopics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRules(t, dir, "sud.yaml", sudFile)
	writeRules(t, dir, "mh.yaml", "topic: MH\nsources: [x]\nrules:\n  - id: mh\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    ranges: [[F20, F69]]\n    labels: [MH, R]\n")
	rules, err := labels.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := labels.New(rules...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got reloads
	go labels.WatchRules(ctx, l, dir, 10*time.Millisecond, got.add)
	if r := got.wait(t, 1); r.Err != nil || len(r.Dropped) != 0 || !slices.Equal(r.Topics, []string{"MH", "SUD"}) || r.Revision == "" {
		t.Fatalf("first poll: %+v", r)
	}
	if err := os.Remove(filepath.Join(dir, "sud.yaml")); err != nil {
		t.Fatal(err)
	}
	if r := got.wait(t, 2); r.Err != nil || !slices.Equal(r.Dropped, []string{"SUD"}) {
		t.Errorf("sud.yaml deleted: %+v, want SUD dropped", r)
	}
}

// TestWatchWarnsAtStart: the watcher's first poll runs when it starts, so a
// rule file's warning (a rule on an unknown system) is reported at start,
// not an interval later (the watcher of serve polls every 2 s; this one
// every hour).
func TestWatchWarnsAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRules(t, dir, "sud.yaml", "topic: SUD\nsources: [x]\nrules:\n  - id: sud\n    system: http://hl7.org/fhir/sid/icd10-cm\n    prefixes: [F10]\n    labels: [SUD, R]\n")
	rules, err := labels.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := labels.New(rules...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got reloads
	go labels.WatchRules(ctx, l, dir, time.Hour, got.add)
	if r := got.wait(t, 1); r.Err != nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "sud.yaml:4") {
		t.Fatalf("at start: %+v, want the unknown system's warning", r)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
}

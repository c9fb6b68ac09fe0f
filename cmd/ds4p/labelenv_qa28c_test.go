package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLabelCommandReadsServesEnvironmentQA28C: ds4p label takes the rules
// directory serve takes: DS4P_LABEL_RULES_DIR replaces the config file's
// labels.rules_dir (the README's precedence: file, then DS4P_ variables,
// then flags). It took the file's, so an analyst labelling offline where
// serve runs with the variable set labelled by other rules than the
// proxy's: here a site's rule labelling a local code HIV.
func TestLabelCommandReadsServesEnvironmentQA28C(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site-rules")
	if err := os.Mkdir(site, 0o700); err != nil {
		t.Fatal(err)
	}
	rule := "topic: HIV\nsources: [\"the site's own code system\"]\nrules:\n  - id: site-hiv\n    system: http://example.org/site-codes\n    codes: [X1]\n    labels: [HIV, R]\n"
	if err := os.WriteFile(filepath.Join(site, "site.yaml"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "ds4p.yaml")
	if err := os.WriteFile(cfg, []byte("upstream: http://127.0.0.1:1/fhir\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "c.json")
	if err := os.WriteFile(in, []byte(`{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://example.org/site-codes","code":"X1"}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DS4P_LABEL_RULES_DIR", site)
	var out, errOut strings.Builder
	if err := runLabel(t.Context(), []string{"--config", cfg, in}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `"code":"HIV"`) || !strings.Contains(errOut.String(), "site-hiv") {
		t.Errorf("the site's rule in DS4P_LABEL_RULES_DIR did not label:\n%s\n%s", out.String(), errOut.String())
	}
}

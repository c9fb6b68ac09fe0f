package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEnforcementAllowListAndOperations: enforcement.allow_list and
// enforcement.allow_operations reach the proxy's request rules, and an
// allow_operations entry that is no operation name (or is $export, which
// has allow_export) is refused at load.
func TestEnforcementAllowListAndOperations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	load := func(enforcement string) (Config, error) {
		path := filepath.Join(dir, "c.yaml")
		doc := "upstream: http://ehr/fhir\nauth:\n  dev: true\ndata_dir: " + filepath.Join(dir, "data") + "\nenforcement:\n" + enforcement
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return loadConfig([]string{"--config", path}, nil)
	}
	c, err := load("  allow_list: true\n  allow_operations: [cql, $stats]\n")
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.proxyOptions()
	if err != nil || !o.Requests.AllowList || !slices.Equal(o.Requests.AllowOperations, []string{"cql", "$stats"}) {
		t.Fatalf("%+v %v", o.Requests, err)
	}
	c, err = load("  total: decrement\n")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := c.proxyOptions(); o.Requests.AllowList || len(o.Requests.AllowOperations) != 0 {
		t.Fatalf("defaults: %+v", o.Requests)
	}
	for _, bad := range []string{`["c ql"]`, `["$cql/x"]`, `[export]`, `[""]`} {
		if _, err := load("  allow_operations: " + bad + "\n"); err == nil || !strings.Contains(err.Error(), "enforcement.allow_operations") {
			t.Errorf("allow_operations: %s: %v", bad, err)
		}
	}
	// enforcement.search_params reach the request rules; a declaration
	// that cannot be right is refused at load, naming the entry.
	c, err = load("  search_params:\n    - {resource: DiagnosticReport, code: study, type: reference, targets: [ImagingStudy]}\n")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := c.proxyOptions(); len(o.Requests.SearchParams) != 1 || o.Requests.SearchParams[0].Code != "study" || !slices.Equal(o.Requests.SearchParams[0].Targets, []string{"ImagingStudy"}) {
		t.Fatalf("search_params: %+v", o.Requests.SearchParams)
	}
	for _, bad := range []string{"{resource: DiagnosticReport, code: study, type: ref}", "{resource: Observation, code: focus, type: reference}", "{resource: DiagnosticReport, code: study, type: reference, target: [X]}"} {
		if _, err := load("  search_params:\n    - " + bad + "\n"); err == nil || !strings.Contains(err.Error(), "search_params") && !strings.Contains(err.Error(), "target") {
			t.Errorf("search_params: %s: %v", bad, err)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLabelCommandNDJSONStoredSearchsetQA37G: a line of NDJSON (a bulk
// export of Bundles) is a Bundle the server holds, whatever its type, as
// the proxy reads Bundle/b1 (storedBundle: a read is stored): a saved
// searchset its EHR labelled R as a whole gave its Condition R through the
// proxy, and `ds4p label` wrote the Condition unlabelled, the labels of a
// search's answer being read as its summary.
func TestLabelCommandNDJSONStoredSearchsetQA37G(t *testing.T) {
	t.Parallel()
	in := `{"resourceType":"Bundle","id":"b1","type":"searchset","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"entry":[{"resource":{"resourceType":"Condition","id":"c1","code":{"text":"patient-reported"}}}]}` + "\n" +
		`{"resourceType":"Patient","id":"p1"}` + "\n"
	f := filepath.Join(t.TempDir(), "in.ndjson")
	if err := os.WriteFile(f, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := runLabel(t.Context(), []string{f}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	i := strings.Index(line, `"resourceType":"Condition"`)
	if i < 0 {
		t.Fatalf("no Condition in the output:\n%s", out.String())
	}
	if !strings.Contains(line[i:], `"code":"R"`) {
		t.Errorf("the stored searchset's Condition lacks its R label:\n%s", out.String())
	}
	// A single Bundle file of type searchset is still read as a search's
	// answer (TestLabelCommandStoredBundleLabelsQA37B): only lines change.
}

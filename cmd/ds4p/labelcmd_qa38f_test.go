package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLabelCommandEntryOutcomeQA38F: Bundle.entry.response.outcome is
// typed Resource, and the proxy labels a resource stored there as it
// labels the entry's (329bcaa). `ds4p label` read entry.resource only: a
// collection, history or batch-response whose entry's outcome held a
// Condition coded F11.20 came out with the Condition unlabelled, and a
// collection labelled R as a whole did not give the outcome its R.
func TestLabelCommandEntryOutcomeQA38F(t *testing.T) {
	t.Parallel()
	condF := `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	condPlain := `{"resourceType":"Condition","id":"c1","code":{"text":"patient-reported"}}`
	sec := `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}`
	bundle := func(typ, meta, entry string) string {
		return `{"resourceType":"Bundle","id":"b1",` + meta + `"type":"` + typ + `","entry":[` + entry + `]}`
	}
	cases := []struct {
		name, in, want string
	}{
		{"collection, F11.20", bundle("collection", "", `{"response":{"status":"200","outcome":`+condF+`}}`), "SUD"},
		{"beside a resource", bundle("history", "", `{"resource":{"resourceType":"Patient","id":"p1"},"response":{"status":"200","outcome":`+condF+`}}`), "SUD"},
		{"batch-response", bundle("batch-response", "", `{"response":{"status":"200","outcome":`+condF+`}}`), "SUD"},
		{"response as an array", bundle("collection", "", `{"response":[{"status":"200","outcome":`+condF+`}]}`), "SUD"},
		{"collection labelled R", bundle("collection", sec+",", `{"response":{"status":"200","outcome":`+condPlain+`}}`), "R"},
		{"nested collection", bundle("searchset", "", `{"resource":`+bundle("collection", "", `{"response":{"status":"200","outcome":`+condF+`}}`)+`}`), "SUD"},
	}
	for _, c := range cases {
		in := filepath.Join(t.TempDir(), "in.json")
		if err := os.WriteFile(in, []byte(c.in), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut strings.Builder
		if err := runLabel(t.Context(), []string{in}, &out, &errOut); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, errOut.String())
		}
		if !json.Valid([]byte(out.String())) {
			t.Fatalf("%s: output is not JSON:\n%s", c.name, out.String())
		}
		i := strings.Index(out.String(), `"resourceType":"Condition"`)
		if i < 0 {
			t.Fatalf("%s: no Condition in the output:\n%s", c.name, out.String())
		}
		if !strings.Contains(out.String()[i:], `"code":"`+c.want+`"`) {
			t.Errorf("%s: the outcome's Condition lacks %s:\n%s", c.name, c.want, out.String())
		}
	}
}

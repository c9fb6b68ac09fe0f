package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLabelCommandStoredBundleLabelsQA37B: a stored Bundle's own labels
// are its entries', as the proxy gives them (labels.BundleLabels): a
// collection its EHR labelled SUD and R as a whole, whose Condition bears
// no code a rule matches, came out of `ds4p label` with the Condition
// unlabelled, to be disclosed as ordinary by whoever reads the entry; the
// proxy withholds it from org-b. A search's answer's labels, its summary,
// are still not given to its entries.
func TestLabelCommandStoredBundleLabelsQA37B(t *testing.T) {
	t.Parallel()
	cond := `{"resourceType":"Condition","id":"c1","code":{"text":"patient-reported"}}`
	sec := `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}`
	cases := []struct {
		name, in string
		want     []string
	}{
		{"stored collection", `{"resourceType":"Bundle","id":"b1",` + sec + `,"type":"collection","entry":[{"resource":` + cond + `}]}`, []string{"R", "SUD"}},
		{"document in a searchset", `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Bundle","id":"b1",` + sec + `,"type":"document","entry":[{"resource":` + cond + `}]}}]}`, []string{"R", "SUD"}},
		{"search answer", `{"resourceType":"Bundle",` + sec + `,"type":"searchset","entry":[{"resource":` + cond + `}]}`, nil},
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
		var got []string
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if x["resourceType"] == "Condition" {
					meta, _ := x["meta"].(map[string]any)
					sec, _ := meta["security"].([]any)
					for _, s := range sec {
						code, _ := s.(map[string]any)["code"].(string)
						got = append(got, code)
					}
					return
				}
				for _, e := range x {
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		var doc any
		if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, out.String())
		}
		walk(doc)
		slices.Sort(got)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: the Condition's labels %v lack %s:\n%s", c.name, got, w, out.String())
			}
		}
		if c.want == nil && len(got) != 0 {
			t.Errorf("%s: the Condition took the search answer's labels %v", c.name, got)
		}
	}
}

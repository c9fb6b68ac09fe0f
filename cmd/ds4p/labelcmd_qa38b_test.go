package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLabelCommandContainedLabelsQA38B: a contained resource's own labels
// are its container's, as the proxy gives them (settleContained): an
// Observation containing a Condition its EHR labelled R and SUD in its own
// meta.security, with no code a rule matches, came out of `ds4p label`
// unlabelled, where the proxy labels it R and SUD and withholds it from
// org-b. The same in a contained collection, a contained Parameters, an
// operation's Parameters, and an NDJSON line holding a batch-response whose
// searchset's entry contains it. A contained resource of no label adds
// none.
func TestLabelCommandContainedLabelsQA38B(t *testing.T) {
	t.Parallel()
	condR := `{"resourceType":"Condition","id":"c1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},"code":{"text":"Opioid use disorder"}}`
	plain := `{"resourceType":"Condition","id":"c2","code":{"text":"sprain"}}`
	obs := func(contained string) string {
		return `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"note"},"contained":` + contained + `}`
	}
	coll := func(res string) string {
		return `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + res + `}]}`
	}
	batchLine := `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + obs(`[`+condR+`]`) + `}]},"response":{"status":"200"}}]}`
	cases := []struct {
		name, in string
		want     []string
	}{
		{"contained", obs(`[` + condR + `]`), []string{"R", "SUD"}},
		{"contained as one object", obs(condR), []string{"R", "SUD"}},
		{"in a contained collection", obs(`[` + coll(condR) + `]`), []string{"R", "SUD"}},
		{"in a contained Parameters' part", obs(`[{"resourceType":"Parameters","parameter":[{"name":"p","part":[{"name":"q","resource":` + condR + `}]}]}]`), []string{"R", "SUD"}},
		{"in an entry's contained list", obs(`[` + coll(obs(`[`+condR+`]`)) + `]`), []string{"R", "SUD"}},
		{"in an operation's Parameters", `{"resourceType":"Parameters","parameter":[{"name":"p","resource":` + condR + `}]}`, []string{"R", "SUD"}},
		{"NDJSON: a batch-response's searchset", batchLine + "\n" + obs(`[`+plain+`]`) + "\n", []string{"R", "SUD"}},
		{"contained of no label", obs(`[` + plain + `]`), nil},
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
		// The first Observation's or top-level Parameters' own labels.
		line, _, _ := strings.Cut(out.String(), "\n")
		var got []string
		var walk func(v any) bool
		walk = func(v any) bool {
			switch x := v.(type) {
			case map[string]any:
				if x["resourceType"] == "Observation" || x["resourceType"] == "Parameters" && x["parameter"] != nil {
					meta, _ := x["meta"].(map[string]any)
					sec, _ := meta["security"].([]any)
					for _, s := range sec {
						code, _ := s.(map[string]any)["code"].(string)
						got = append(got, code)
					}
					return true
				}
				for _, k := range []string{"entry", "resource"} {
					if e, ok := x[k]; ok && walk(e) {
						return true
					}
				}
			case []any:
				for _, e := range x {
					if walk(e) {
						return true
					}
				}
			}
			return false
		}
		var doc any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("%s: %v: %s", c.name, err, line)
		}
		walk(doc)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: container labelled %v, want %v: %s", c.name, got, c.want, line)
		}
	}
}

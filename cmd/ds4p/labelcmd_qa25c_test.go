package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLabelCommandNDJSONBundleLineQA25C: a Bundle on a line of NDJSON (a
// bulk export of documents) is labelled entry by entry, as a Bundle file
// is: it was labelled as one resource, and its SUD entry went out with no
// label of its own, to be disclosed as ordinary by any reader of the
// entry.
func TestLabelCommandNDJSONBundleLineQA25C(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "in.ndjson")
	cond := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	doc := `{"resourceType":"Bundle","id":"b1","type":"document","entry":[{"resource":{"resourceType":"Composition","id":"comp"}},{"resource":` + cond + `}]}`
	obs := `{"resourceType":"Observation","id":"o1","status":"final"}`
	if err := os.WriteFile(in, []byte(obs+"\n "+doc+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if err := runLabel(t.Context(), []string{in}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(errOut.String(), "3 resources, 1 labelled") {
		t.Fatalf("output:\n%s\nsummary:\n%s", out.String(), errOut.String())
	}
	var got struct {
		Meta  struct{ Security []struct{ Code string } }
		Entry []struct {
			Resource struct {
				Meta struct{ Security []struct{ Code string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(lines[1])), &got); err != nil {
		t.Fatalf("%v: %s", err, lines[1])
	}
	var codes []string
	if len(got.Entry) == 2 {
		for _, s := range got.Entry[1].Resource.Meta.Security {
			codes = append(codes, s.Code)
		}
	}
	if !slices.Contains(codes, "SUD") || len(got.Meta.Security) != 0 {
		t.Fatalf("the Bundle line's SUD entry is unlabelled:\n%s", lines[1])
	}
}

package policy

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	regofs "github.com/ds4p/ds4p/rego"
)

const qa20bCaseFile = `time: "2026-01-01T00:00:00Z"
callers:
  a-treat: {org: Organization/org-a, purposes: [TREAT]}
cases:
  - {name: first, caller: a-treat, labels: [], expect: permit}
`

// A case file's second YAML document, a cases/*.yml file or one in a
// subdirectory of cases/ was skipped without a word: policy test, check
// and build passed without their cases.
func TestCaseFilesNeverSkipped(t *testing.T) {
	second := qa20bCaseFile + "---\n" + strings.Replace(qa20bCaseFile, "first", "second", 1)
	if _, err := ParseCases([]byte(second)); err == nil || !strings.Contains(err.Error(), "one YAML document") {
		t.Errorf("a case file of two documents: err = %v, want it refused", err)
	}
	for _, trailing := range []string{"---\n", "--- ~\n", "---\n# nothing more\n"} {
		set, err := ParseCases([]byte(qa20bCaseFile + trailing))
		if err != nil || len(set.Cases) != 1 {
			t.Errorf("a case file ending in %q: %d cases, err = %v; want 1 and no error", trailing, len(set.Cases), err)
		}
	}
	for _, name := range []string{"cases/more.yml", "cases/MORE.YAML", "cases/team/more.yaml"} {
		fsys := fstest.MapFS{
			"cases/ok.yaml": {Data: []byte(qa20bCaseFile)},
			name:            {Data: []byte(qa20bCaseFile)},
		}
		if _, err := LoadCases(fsys); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want it named as not run", name, err)
		}
	}
	// What is read stays read: other files beside the cases, and no cases/.
	fsys := fstest.MapFS{
		"cases/ok.yaml":   {Data: []byte(qa20bCaseFile)},
		"cases/README.md": {Data: []byte("notes")},
	}
	if sets, err := LoadCases(fsys); err != nil || len(sets) != 1 {
		t.Errorf("cases/ok.yaml beside a README: %d sets, err = %v", len(sets), err)
	}
	if sets, err := LoadCases(fstest.MapFS{"x.rego": {Data: []byte("package x")}}); err != nil || len(sets) != 0 {
		t.Errorf("no cases/: %d sets, err = %v", len(sets), err)
	}
	// The embedded policy's own matrix still loads.
	if _, err := RunCases(context.Background(), regofs.FS()); err != nil {
		t.Fatal(err)
	}
}

// TestCaseInputsMatchTheInputSchema: a case matrix consent the proxy
// would never send (a rule without depth, of type Permit) was decided as
// nothing the policy knows, and an expected deny passed whatever the
// policy said about a real consent.
func TestCaseInputsMatchTheInputSchema(t *testing.T) {
	fsys := copyTree(t, regofs.FS())
	for name := range fsys {
		if strings.HasPrefix(name, "cases/") {
			delete(fsys, name)
		}
	}
	fsys["cases/typo.yaml"] = &fstest.MapFile{Data: []byte(`time: "2026-01-01T00:00:00Z"
callers:
  a-treat: {org: Organization/org-a, purposes: [TREAT]}
consents:
  typo:
    rules:
      - {path: provision, type: Permit, conditions: [{}]}
cases:
  - {name: typo-consent, caller: a-treat, consents: [typo], labels: [http://terminology.hl7.org/CodeSystem/v3-ActCode|42CFRPart2], source: part2, expect: deny}
  - {name: fine, caller: a-treat, labels: [], expect: permit}
`)}
	results, err := RunCases(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("results = %+v", results)
	}
	if p := results[0].Problem; !strings.Contains(p, "schema/input.schema.json") || !strings.Contains(p, "depth") || !strings.Contains(p, "type") {
		t.Errorf("a case with a malformed consent: problem %q, want the schema's findings", p)
	}
	if p := results[1].Problem; p != "" {
		t.Errorf("a well-formed case: problem %q", p)
	}
	// Every case of the embedded matrix matches the schema.
	all, err := RunCases(context.Background(), regofs.FS())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Problem != "" {
			t.Errorf("%s: %s: %s", r.File, r.Name, r.Problem)
		}
	}
}

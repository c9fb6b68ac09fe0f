package policy_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

func TestRegoUnitTests(t *testing.T) {
	t.Parallel()
	results, err := policy.RunTests(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 10 {
		t.Fatalf("ran %d Rego tests, want the whole suite", len(results))
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("%s.%s failed: %v", r.Package, r.Name, r.Err)
		}
	}
}

func TestRegoIsFormatted(t *testing.T) {
	t.Parallel()
	bad, err := policy.Unformatted(rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("opa fmt would change %v", bad)
	}
}

func TestSchemaExampleDecision(t *testing.T) {
	t.Parallel()
	eng := newEngine(t)
	var in policy.Input
	readJSON(t, "../rego/schema/examples/sud-consented.input.json", &in)
	var want policy.Decision
	readJSON(t, "../rego/schema/examples/sud-consented.decision.json", &want)
	got, err := eng.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Effect != want.Effect || len(got.Reasons) != len(want.Reasons) || got.Reasons[0] != want.Reasons[0] {
		t.Fatalf("decision = %+v, want %+v", got, want)
	}
	if got.Revision != eng.Revision() || got.Revision == "" {
		t.Fatalf("decision revision %q, engine %q", got.Revision, eng.Revision())
	}
}

func TestDecideWithoutConsentDenies(t *testing.T) {
	t.Parallel()
	eng := newEngine(t)
	in := policy.Input{
		Caller:  policy.Caller{Org: "Organization/x", Purposes: []string{"TREAT"}},
		Request: policy.Request{Interaction: "read", Type: "Condition", TimeNS: 1},
		Patient: "Patient/p1",
		Item:    policy.Item{Type: "Condition", Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD"}},
	}
	d, err := eng.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Permitted() {
		t.Fatalf("SUD without consent permitted: %+v", d)
	}
	in.Item.Labels = nil
	d, err = eng.Decide(context.Background(), in)
	if err != nil || !d.Permitted() {
		t.Fatalf("ordinary item: %+v, %v", d, err)
	}
}

func TestBrokenPolicyKeepsRevision(t *testing.T) {
	t.Parallel()
	eng := newEngine(t)
	before := eng.Revision()
	broken := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\n")}}
	if err := eng.Load(context.Background(), broken); err == nil {
		t.Fatal("broken policy loaded")
	}
	if eng.Revision() != before {
		t.Fatalf("revision changed to %q after a failed load", eng.Revision())
	}
}

func TestUndefinedDecisionIsAnError(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\"effect\": \"permit\", \"reasons\": []} if input.never\n")}}
	eng, err := policy.New(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Decide(context.Background(), policy.Input{}); err == nil {
		t.Fatal("undefined decision returned no error")
	}
}

func newEngine(t testing.TB) *policy.Engine {
	t.Helper()
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestUnformattedDetectsDrift(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"x.rego": {Data: []byte("package x\nallow   if    {input.a==1}\n")}}
	bad, err := policy.Unformatted(fsys)
	if err != nil || len(bad) != 1 {
		t.Fatalf("Unformatted = %v, %v; want [x.rego]", bad, err)
	}
}

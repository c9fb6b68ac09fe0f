package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

var update = flag.Bool("update", false, "rewrite the example decisions in rego/schema/examples")

func TestRegoUnitTests(t *testing.T) {
	t.Parallel()
	results, err := policy.RunTests(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 60 {
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

func TestCheckDefaultPolicyIsClean(t *testing.T) {
	t.Parallel()
	problems, err := policy.Check(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("policy check: %v", problems)
	}
}

// TestSchemaExamples decides every example input of rego/schema/examples,
// checks input and decision against their schemas, and compares the
// decision with the example decision (go test -update rewrites them).
func TestSchemaExamples(t *testing.T) {
	t.Parallel()
	eng := newEngine(t)
	inputs, _ := filepath.Glob("../rego/schema/examples/*.input.json")
	if len(inputs) < 4 {
		t.Fatalf("only %d example inputs", len(inputs))
	}
	inSchema := readFile(t, "../rego/schema/input.schema.json")
	outSchema := readFile(t, "../rego/schema/decision.schema.json")
	for _, path := range inputs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var raw any
			readJSON(t, path, &raw)
			assertMatches(t, raw, inSchema)
			var in policy.Input
			readJSON(t, path, &in)
			got, err := eng.Decide(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Revision != eng.Revision() || got.Revision == "" {
				t.Fatalf("decision revision %q, engine %q", got.Revision, eng.Revision())
			}
			got.Revision = ""
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			gotJSON = append(gotJSON, '\n')
			var asDoc any
			_ = json.Unmarshal(gotJSON, &asDoc)
			delete(asDoc.(map[string]any), "revision")
			assertMatches(t, asDoc, outSchema)
			golden := strings.TrimSuffix(path, ".input.json") + ".decision.json"
			if *update {
				if err := os.WriteFile(golden, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := readFile(t, golden); !bytes.Equal(want, gotJSON) {
				t.Fatalf("decision\n%s\nwant (go test ./policy -update to accept)\n%s", gotJSON, want)
			}
		})
	}
}

func assertMatches(t *testing.T, doc any, schema []byte) {
	t.Helper()
	problems, err := policy.MatchSchema(context.Background(), doc, schema)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("does not match its schema: %v", problems)
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
	st := eng.Status()
	if st.Rejected == nil || st.Rejected.Revision == "" || st.Rejected.Error == "" || st.Revision != before {
		t.Fatalf("status after a rejected load: %+v", st)
	}
	if err := eng.ReadyCheck(context.Background()); err == nil || !strings.Contains(err.Error(), before) {
		t.Fatalf("ReadyCheck = %v, want the rejection naming the serving revision", err)
	}
	// The last good revision serves: degraded, not down (/readyz warns).
	var d interface{ Degraded() bool }
	if err := eng.ReadyCheck(context.Background()); !errors.As(err, &d) || !d.Degraded() {
		t.Fatalf("ReadyCheck = %v, want an error that says Degraded", err)
	}
	if err := eng.Load(context.Background(), rego.FS()); err != nil {
		t.Fatal(err)
	}
	if eng.Status().Rejected != nil || eng.ReadyCheck(context.Background()) != nil {
		t.Fatalf("rejection not cleared by reloading the serving revision: %+v", eng.Status())
	}
}

// TestFailingRegoTestsRejectPolicy: with WithVerify, a policy whose own
// tests fail does not replace the one in force.
func TestFailingRegoTestsRejectPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng, err := policy.New(ctx, rego.FS(), policy.WithVerify(true))
	if err != nil {
		t.Fatal(err)
	}
	before := eng.Revision()
	fsys := copyFS(t, rego.FS())
	fsys["ds4p/zz_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n\ntest_always_fails if false\n")}
	fsys["ds4p/zz.rego"] = &fstest.MapFile{Data: []byte("package ds4p\n\nzz := 1\n")}
	err = eng.Load(ctx, fsys)
	if err == nil || !strings.Contains(err.Error(), "test_always_fails") {
		t.Fatalf("Load = %v, want the failing test named", err)
	}
	if eng.Revision() != before {
		t.Fatal("a policy failing its tests replaced the one in force")
	}
}

func TestInvalidPolicyDataRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fsys := copyFS(t, rego.FS())
	fsys["ds4p/config/state_law/data.json"].Data = bytes.Replace(fsys["ds4p/config/state_law/data.json"].Data,
		[]byte(`"without_consent": ["TREAT", "ETREAT"]`), []byte(`"without_consent": "TREAT"`), 1)
	problems, err := policy.ValidateData(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		t.Fatal("a string where the schema wants a list passed validation")
	}
	if err := policy.Verify(ctx, fsys); err == nil {
		t.Fatal("Verify accepted invalid policy data")
	}
}

// TestPolicyDataValidatedWithoutItsSchema: a tree without
// schema/config.schema.json skipped validation, and check printed "policy
// data valid" about data never validated; it is held to the embedded
// schema, as a bundle is.
func TestPolicyDataValidatedWithoutItsSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fsys := copyFS(t, rego.FS())
	delete(fsys, policy.ConfigSchemaPath)
	fsys["ds4p/config/data.json"].Data = bytes.Replace(fsys["ds4p/config/data.json"].Data,
		[]byte(`"min_reason_chars": 4`), []byte(`"min_reason_chars": "four"`), 1)
	problems, err := policy.ValidateData(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 || !strings.Contains(strings.Join(problems, "; "), "min_reason_chars") {
		t.Fatalf("invalid policy data in a tree without its schema: problems %q", problems)
	}
	if err := policy.Verify(ctx, fsys); err == nil {
		t.Fatal("Verify accepted invalid policy data in a tree without its schema")
	}
}

// TestLoadRejectsPolicyWithoutUsableDecision: a revision that defines no
// data.ds4p.decision, leaves it undefined for an ordinary request, answers
// something that is not a decision, or carries no Rego tests compiled,
// passed verification and served, and every request then failed while
// /readyz said the policy was fine. Each is rejected at load and the
// revision in force keeps serving; Verify refuses each too.
func TestLoadRejectsPolicyWithoutUsableDecision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	small := func(main, test string) fstest.MapFS {
		fsys := copyFS(t, rego.FS())
		for name := range fsys {
			if strings.HasPrefix(name, "ds4p/") && strings.HasSuffix(name, ".rego") {
				delete(fsys, name)
			}
		}
		fsys["ds4p/main.rego"] = &fstest.MapFile{Data: []byte("package ds4p\n\n" + main + "\n")}
		if test != "" {
			fsys["ds4p/main_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n\n" + test + "\n")}
		}
		return fsys
	}
	permit := `{"effect": "permit", "reasons": []}`
	good := small("decision := "+permit, "test_permits if data.ds4p.decision.effect == \"permit\"")
	eng, err := policy.New(ctx, good, policy.WithVerify(true))
	if err != nil {
		t.Fatalf("a small policy with its decision and a test: %v", err)
	}
	serving := eng.Revision()
	for name, c := range map[string]struct {
		fsys fstest.MapFS
		want string
	}{
		"no decision rule": {small("not_the_decision := 1", "test_one if data.ds4p.not_the_decision == 1"),
			"no rule defines data.ds4p.decision"},
		"undefined for an ordinary request": {small("decision := "+permit+` if input.item.type == "Condition"`, "test_condition if data.ds4p.decision with input.item.type as \"Condition\""),
			"undefined for a treating clinician reading an unlabelled Observation"},
		"not a decision": {small("decision := 1", "test_one if data.ds4p.decision == 1"),
			"not a decision the proxy can read"},
		"no Rego tests": {small("decision := "+permit+"\n\n# a new revision, without tests", ""),
			"no Rego tests"},
	} {
		err := eng.Load(ctx, c.fsys)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Load = %v, want a rejection saying %q", name, err, c.want)
		}
		if eng.Revision() != serving {
			t.Fatalf("%s: replaced the revision in force", name)
		}
		if err := policy.Verify(ctx, c.fsys); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Verify = %v, want %q", name, err, c.want)
		}
		if d, err := eng.Decide(ctx, policy.Input{Caller: policy.Caller{Purposes: []string{"TREAT"}}, Item: policy.Item{Type: "Observation"}}); err != nil || !d.Permitted() {
			t.Fatalf("%s: the revision in force stopped answering: %+v, %v", name, d, err)
		}
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

func TestUnknownEffectIsAnError(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\"effect\": \"maybe\", \"reasons\": []}\n")}}
	eng, err := policy.New(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Decide(context.Background(), policy.Input{}); err == nil {
		t.Fatal("a decision with an unknown effect was accepted")
	}
}

// TestMaskDecisionDecoded: effect mask and its labels reach the proxy.
func TestMaskDecisionDecoded(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\"effect\": \"mask\", \"mask\": [\"s|SUD\"], \"reasons\": []}\n")}}
	eng, err := policy.New(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Decide(context.Background(), policy.Input{})
	if err != nil || d.Effect != policy.Mask || len(d.Mask) != 1 || d.Mask[0] != "s|SUD" || d.Permitted() {
		t.Fatalf("decision %+v, %v", d, err)
	}
}

func TestRuntimeErrorIsAnError(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\"effect\": \"permit\", \"reasons\": [], \"x\": 1 / count(input.item.labels)}\n")}}
	eng, err := policy.New(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Decide(context.Background(), policy.Input{}); err == nil {
		t.Fatal("a division by zero in the policy gave a decision")
	}
}

func TestRevisionIgnoresTestsAndSchemas(t *testing.T) {
	t.Parallel()
	fsys := copyFS(t, rego.FS())
	before, _ := policy.Revision(fsys)
	fsys["ds4p/extra_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n")}
	fsys["schema/extra.json"] = &fstest.MapFile{Data: []byte("{}")}
	if after, _ := policy.Revision(fsys); after != before {
		t.Fatal("a test or schema file changed the revision")
	}
	// Data counts by content: reformatting keeps the revision, a changed
	// value does not.
	fsys["ds4p/config/state_law/data.json"].Data = append(bytes.Clone(fsys["ds4p/config/state_law/data.json"].Data), ' ')
	if after, _ := policy.Revision(fsys); after != before {
		t.Fatal("whitespace after the policy data changed the revision")
	}
	fsys["ds4p/config/state_law/data.json"].Data = bytes.Replace(fsys["ds4p/config/state_law/data.json"].Data,
		[]byte(`"TREAT", "ETREAT"`), []byte(`"ETREAT"`), 1)
	if after, _ := policy.Revision(fsys); after == before {
		t.Fatal("a policy data change kept the revision")
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

func newEngine(t testing.TB, opts ...policy.Option) *policy.Engine {
	t.Helper()
	eng, err := policy.New(context.Background(), rego.FS(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(readFile(t, path), v); err != nil {
		t.Fatal(err)
	}
}

// TestOtherPatientsConsentsIgnored: the engine leaves out consents of a
// patient other than the input's before the policy sees them.
func TestOtherPatientsConsentsIgnored(t *testing.T) {
	t.Parallel()
	eng := newEngine(t)
	in := sudInput("Organization/org-a", "TREAT")
	other := tpoConsent("1", "active")
	other["patient"] = "Patient/p2"
	in.Consents = []any{other}
	if d, err := eng.Decide(context.Background(), in); err != nil || d.Permitted() {
		t.Fatalf("another patient's consent permitted the item: %+v %v", d, err)
	}
	in.Consents = []any{tpoConsent("1", "active")}
	if d, err := eng.Decide(context.Background(), in); err != nil || !d.Permitted() {
		t.Fatalf("the patient's own consent: %+v %v", d, err)
	}
}

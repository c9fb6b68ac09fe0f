package policy_test

import (
	"context"
	"testing"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestCaseMatrix runs rego/cases/*.yaml against the default policy.
func TestCaseMatrix(t *testing.T) {
	t.Parallel()
	results, err := policy.RunCases(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 100 {
		t.Fatalf("the case matrix has %d cases, want at least 100", len(results))
	}
	for _, r := range results {
		if r.Problem != "" {
			t.Errorf("%s: %s: %s", r.File, r.Name, r.Problem)
		}
	}
}

func TestCaseFileErrors(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"unknown key":     "time: \"2026-01-01T00:00:00Z\"\nbogus: 1\n",
		"bad time":        "time: yesterday\n",
		"unknown caller":  "time: \"2026-01-01T00:00:00Z\"\ncases: [{name: x, caller: nobody, expect: permit}]\n",
		"unknown consent": "time: \"2026-01-01T00:00:00Z\"\ncallers: {a: {org: o}}\ncases: [{name: x, caller: a, consents: [nope], expect: permit}]\n",
		"bad effect":      "time: \"2026-01-01T00:00:00Z\"\ncallers: {a: {org: o}}\ncases: [{name: x, caller: a, expect: maybe}]\n",
		"short grid row":  "time: \"2026-01-01T00:00:00Z\"\ncallers: {a: {org: o}}\ngrids: [{name: g, columns: [none, none], expect: {a: [permit]}}]\n",
	} {
		if _, err := policy.ParseCases([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestCaseMatrixCatchesAWrongExpectation: a case that expects the wrong
// effect fails, so the matrix can fail.
func TestCaseMatrixCatchesAWrongExpectation(t *testing.T) {
	t.Parallel()
	set, err := policy.ParseCases([]byte(`time: "2026-01-01T00:00:00Z"
callers: {b: {org: Organization/org-b, purposes: [TREAT]}}
aliases: {SUD: "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD"}
cases: [{name: wrong, caller: b, labels: [SUD], expect: permit}]
`))
	if err != nil {
		t.Fatal(err)
	}
	eng := newEngine(t)
	d, err := eng.Decide(context.Background(), set.Cases[0].Input)
	if err != nil {
		t.Fatal(err)
	}
	if set.Cases[0].Check(d) == "" {
		t.Fatal("a wrong expectation passed")
	}
}

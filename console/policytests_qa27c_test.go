package console

import (
	"encoding/json"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/rego"
)

// TestPolicyTestsFollowTheTests: the console's Rego test results are kept
// by the tree's tests as well as its revision. Keyed by the revision,
// which leaves tests out, a test edited to fail after a run kept showing
// every test passing (QA round 27).
func TestPolicyTestsFollowTheTests(t *testing.T) {
	t.Parallel()
	tree := fstest.MapFS{}
	if err := fs.WalkDir(rego.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(rego.FS(), p)
		tree[p] = &fstest.MapFile{Data: b}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *Config) { c.PolicyFS = func() fs.FS { return tree } })
	b := f.login(t, complianceTok)
	run := func() (passed, failed int) {
		rec := f.call(b, "policy/tests", `{}`)
		var out struct {
			Passed, Failed int
			Error          string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error != "" {
			t.Fatalf("policy/tests: %d %.300s", rec.Code, rec.Body)
		}
		return out.Passed, out.Failed
	}
	if _, failed := run(); failed != 0 {
		t.Fatalf("the shipped tests: %d failed", failed)
	}
	tree["ds4p/zz_qa27c_test.rego"] = &fstest.MapFile{Data: []byte("package ds4p_test\n\ntest_zz_fails if false\n")}
	if _, failed := run(); failed != 1 {
		t.Errorf("after a failing test was added: %d failed, want 1 (the earlier run's results)", failed)
	}
}

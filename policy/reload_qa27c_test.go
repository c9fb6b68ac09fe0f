package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestWatchDirRetriesWhenOnlyTheSchemaIsFixed: policy data rejected by the
// tree's own config schema is loaded once the schema alone is fixed (an
// analyst adds a key to the data and then to the schema). The watcher
// keyed its attempts on the revision and the tests, which leave the schema
// out, and never attempted the corrected tree: /readyz reported the
// rejection until something else changed (QA round 27).
func TestWatchDirRetriesWhenOnlyTheSchemaIsFixed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, rego.FS()); err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(ctx, os.DirFS(dir), policy.WithVerify(true), policy.WithSource(dir))
	if err != nil {
		t.Fatal(err)
	}
	good := eng.Revision()
	go eng.WatchDir(ctx, dir, 10*time.Millisecond)
	data := filepath.Join(dir, "ds4p/config/data.json")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, data, strings.Replace(string(b), "{", `{"site_contact": "privacy office",`, 1))
	waitFor(t, func() bool { return eng.Status().Rejected != nil }, eng)
	if eng.Revision() != good || !strings.Contains(eng.Status().Rejected.Error, "site_contact") {
		t.Fatalf("data the schema refuses: revision %s, status %+v", eng.Revision(), eng.Status().Rejected)
	}
	schema := filepath.Join(dir, policy.ConfigSchemaPath)
	if b, err = os.ReadFile(schema); err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(string(b), `"properties": {`, `"properties": {"site_contact": {"type": "string"},`, 1)
	if fixed == string(b) {
		t.Fatal("the schema has no properties to extend")
	}
	writeFile(t, schema, fixed)
	waitFor(t, func() bool { return eng.Revision() != good && eng.Status().Rejected == nil }, eng)
}

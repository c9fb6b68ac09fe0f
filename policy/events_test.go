package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestLoadHookReportsLoadsAndRejections: the hook sees the first load and
// a rejected revision, with the source and revisions and no policy data.
func TestLoadHookReportsLoadsAndRejections(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.CopyFS(dir, rego.FS()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []policy.LoadEvent
	hook := func(ev policy.LoadEvent) { mu.Lock(); got = append(got, ev); mu.Unlock() }
	eng, err := policy.New(context.Background(), os.DirFS(dir), policy.WithSource("test-dir"), policy.WithLoadHook(hook))
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "ds4p/main.rego")
	good, _ := os.ReadFile(main)
	if err := os.WriteFile(main, append(good, []byte("\nbroken := {\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := eng.Load(context.Background(), os.DirFS(dir)); err == nil {
		t.Fatal("a broken module loaded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("events = %+v, want a load and a rejection", got)
	}
	if !got[0].Loaded || got[0].Revision != eng.Revision() || got[0].Source != "test-dir" {
		t.Errorf("load event = %+v", got[0])
	}
	if got[1].Loaded || got[1].Revision == "" || got[1].Revision == eng.Revision() || got[1].Error == "" {
		t.Errorf("rejection event = %+v", got[1])
	}
}

package policy

import (
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestTreeKeyFollowsTheConfigSchema: the key the watchers attempt a tree
// by changes with the tree's config schema, which verification reads, so
// data rejected by the schema is attempted again once the schema alone is
// fixed (QA round 27; TestWatchDirRetriesWhenOnlyTheSchemaIsFixed through
// the watcher). Case files, which no reload reads, do not change it.
func TestTreeKeyFollowsTheConfigSchema(t *testing.T) {
	t.Parallel()
	tree := copyTree(t, rego.FS())
	before, err := treeKey(tree)
	if err != nil {
		t.Fatal(err)
	}
	tree[ConfigSchemaPath].Data = append(tree[ConfigSchemaPath].Data, '\n')
	after, err := treeKey(tree)
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Error("a changed config schema keeps the tree's key: a tree its old schema refused is never attempted again")
	}
	tree["cases/matrix.yaml"].Data = append(tree["cases/matrix.yaml"].Data, '\n')
	if k, err := treeKey(tree); err != nil || k != after {
		t.Errorf("a changed case file changes the key (%v): %s, was %s", err, k, after)
	}
}

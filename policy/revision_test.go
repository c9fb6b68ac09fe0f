package policy

import (
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/rego"
)

// TestBundleKeepsDirectoryRevision: the bundle `policy build` makes of a
// directory serves under the revision `policy check` printed for it, so
// what compliance staff built is what /readyz names.
func TestBundleKeepsDirectoryRevision(t *testing.T) {
	t.Parallel()
	dir, err := Revision(rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := BuildBundle(rego.FS(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := ReadBundle(raw, nil, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Revision(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Fatalf("the bundle's revision %s differs from its directory's %s", got, dir)
	}
}

// TestRevisionFollowsContent: a changed data value, a changed module and a
// data file moved to another directory each change the revision; a test
// file, a reformatted data file and a schema do not.
func TestRevisionFollowsContent(t *testing.T) {
	t.Parallel()
	base := copyTree(t, rego.FS())
	rev := func(m map[string]string) string {
		t.Helper()
		tree := copyTree(t, base)
		for name, data := range m {
			if data == "" {
				delete(tree, name)
				continue
			}
			tree[name] = &fstest.MapFile{Data: []byte(data)}
		}
		r, err := Revision(tree)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	orig := rev(nil)
	data := string(base["ds4p/config/data.json"].Data)
	for name, change := range map[string]map[string]string{
		"data value": {"ds4p/config/data.json": string(replaceOnceIn(t, []byte(data), `"min_reason_chars": 4`, `"min_reason_chars": 5`))},
		"module":     {"ds4p/main.rego": string(base["ds4p/main.rego"].Data) + "\n# a comment\n"},
		"data moved": {"ds4p/config/data.json": "", "ds4p/data.json": data},
	} {
		if rev(change) == orig {
			t.Errorf("%s: the revision did not change", name)
		}
	}
	for name, change := range map[string]map[string]string{
		"test file":   {"ds4p/zz_test.rego": "package ds4p_test\n\ntest_x if true\n"},
		"reformatted": {"ds4p/config/data.json": "  " + data + "\n\n"},
		"schema":      {"schema/extra.json": "{}"},
	} {
		if rev(change) != orig {
			t.Errorf("%s: the revision changed", name)
		}
	}
}

// TestRevisionFollowsDataThatIsNotAnObject: a data file holding true, a
// number or a list (the value at its directory) counted for nothing in the
// revision, so changing it kept the revision: the watcher never reloaded
// it, and two policies shared a revision in the ledger. Its bundle keeps
// the directory's revision, and a file the loader refuses (a value where
// another file put one) still changes the revision.
func TestRevisionFollowsDataThatIsNotAnObject(t *testing.T) {
	t.Parallel()
	rev := func(files map[string]string) string {
		t.Helper()
		tree := copyTree(t, rego.FS())
		for name, data := range files {
			tree[name] = &fstest.MapFile{Data: []byte(data)}
		}
		r, err := Revision(tree)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for name, pair := range map[string][2]string{
		"boolean": {"false", "true"},
		"number":  {"1", "2"},
		"list":    {`["TREAT"]`, `["TREAT", "ETREAT"]`},
		"string":  {`"a"`, `"b"`},
	} {
		const file = "ds4p/flags/strict/data.json"
		before, after := rev(map[string]string{file: pair[0]}), rev(map[string]string{file: pair[1]})
		if before == after {
			t.Errorf("%s: %s changed from %s to %s and the revision stayed %s", name, file, pair[0], pair[1], before)
		}
	}
	conflict := map[string]string{"ds4p/flags/data.json": `{"strict": {"a": 1}}`}
	alone := rev(conflict)
	conflict["ds4p/flags/strict/data.json"] = "true"
	if rev(conflict) == alone {
		t.Error("a data file the loader refuses (a value where another file put an object) left the revision as it was")
	}

	tree := copyTree(t, rego.FS())
	tree["ds4p/flags/strict/data.json"] = &fstest.MapFile{Data: []byte("true")}
	dir, err := Revision(tree)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := BuildBundle(tree, nil)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := ReadBundle(raw, nil, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Revision(fsys); err != nil || got != dir {
		t.Fatalf("the bundle's revision %s (%v) differs from its directory's %s", got, err, dir)
	}
}

package policy

import (
	"context"
	"runtime"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// TestEnginesShareACompiledRevision: a second engine loading a revision
// another engine of the process holds takes its compiled queries and
// programs instead of compiling again, and still has caches of its own.
// When no engine holds the revision any more, nothing keeps it alive.
func TestEnginesShareACompiledRevision(t *testing.T) {
	ctx := context.Background()
	e1, err := New(ctx, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	e2, err := New(ctx, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := e1.cur.Load(), e2.cur.Load()
	if p1.compiled == nil || p1.compiled != p2.compiled {
		t.Errorf("the second engine compiled the revision again (%p, %p)", p1.compiled, p2.compiled)
	}
	if p1.vm == nil || p1.vm != p2.vm {
		t.Errorf("the second engine made the interpreter's programs again (%p, %p, %s)", p1.vm, p2.vm, p1.vmOff)
	}
	if p1.decisions == p2.decisions || e1.consents == e2.consents || (p1.contexts != nil && p1.contexts == p2.contexts) {
		t.Error("two engines share a cache of decisions, consent sets or fixed contexts")
	}
	key := p1.revision + "\x00" + e1.query
	p1, p2, e1, e2 = nil, nil, nil, nil
	for range 3 {
		runtime.GC()
	}
	if c := loadBuild[compiled](&compiledRevisions, key); c != nil {
		t.Error("a revision no engine holds is kept alive by the process's compiled revisions")
	}
	if vm := loadBuild[vmPrograms](&vmRevisions, key); vm != nil {
		t.Error("a revision no engine holds is kept alive by the process's interpreter programs")
	}
}

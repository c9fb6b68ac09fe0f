package policy

import (
	"context"
	"reflect"
	"testing"

	"github.com/ds4p/ds4p/rego"
)

// The engine reports the purpose hierarchy of the revision in force: the
// embedded one as rego.PurposeHierarchy reads it, and a changed one after a
// load, so the 2.32(b) text follows what the policy decides with.
func TestPurposeHierarchyOfTheRevisionInForce(t *testing.T) {
	ctx := context.Background()
	eng, err := New(ctx, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	want := rego.PurposeHierarchy()
	if len(want) == 0 || !reflect.DeepEqual(eng.PurposeHierarchy(), want) {
		t.Fatalf("embedded: got %v, want %v", eng.PurposeHierarchy(), want)
	}
	// A copy of its own: changing it changes nothing.
	h := eng.PurposeHierarchy()
	h["HPAYMT"] = nil
	if !reflect.DeepEqual(eng.PurposeHierarchy(), want) {
		t.Fatal("the caller's change reached the engine")
	}
	changed, err := withData(rego.FS(), map[string]any{"purpose_hierarchy": map[string]any{"HPAYMT": []any{"COVERAGE", "LOCALPAY"}, "COVERAGE": []any{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Load(ctx, changed); err != nil {
		t.Fatal(err)
	}
	got := eng.PurposeHierarchy()
	if !reflect.DeepEqual(got["HPAYMT"], []string{"COVERAGE", "LOCALPAY"}) || len(got) != 2 {
		t.Fatalf("after the load: %v", got)
	}
}

package policy

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Items without facts are kept by the input memo (inputMemo.item): it
// must hand out the same item document as building it afresh, never
// confuse two items that differ in type, source or labels (nor ones whose
// fields only concatenate alike), and build an item with facts afresh.
func TestInputMemoItems(t *testing.T) {
	m := newInputMemo()
	var ts int64 = 7
	items := []Item{
		{Type: "Condition"},
		{Type: "Condition", Source: "a"},
		{Type: "Condition", Source: "b"},
		{Type: "Conditiona"},
		{Type: "Condition", Labels: []string{"a"}},
		{Type: "Condition", Source: "a", Labels: []string{"a"}},
		{Type: "Condition", Labels: []string{"a", "b"}},
		{Type: "Condition", Labels: []string{"ab"}},
		{Type: "Condition", Labels: []string{"1:a"}},
		{Type: "Observation", Labels: []string{"a"}},
		{Type: "", Source: "Condition"},
		{Type: "Condition", Facts: &ItemFacts{Codes: []string{"x"}}},
		{Type: "Condition", Facts: &ItemFacts{Codes: []string{"y"}, TimeNS: &ts}},
	}
	for round := range 2 { // the second round reads what the first stored
		for i, it := range items {
			in := Input{Caller: Caller{Org: "Organization/x"}, Patient: "Patient/p",
				Request: Request{Interaction: "read", Type: "Condition", TimeNS: 5}, Item: it}
			got, want := in.value(ast.NewArray(), m, nil), in.value(ast.NewArray(), nil, nil)
			if got.Compare(want) != 0 {
				t.Fatalf("round %d, item %d: memo gave %v, want %v", round, i, got, want)
			}
		}
	}
	plain, faceted := items[5], items[11]
	if m.item(&plain) != m.item(&plain) {
		t.Error("an item without facts is built afresh each time")
	}
	if m.item(&faceted) == m.item(&faceted) {
		t.Error("an item with facts came from the memo")
	}
	if got := m.items.len(); got != 11 {
		t.Errorf("the memo holds %d items, want the 11 without facts", got)
	}
}

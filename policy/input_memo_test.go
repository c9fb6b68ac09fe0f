package policy

import (
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The memo must hand out the same input document as building it afresh,
// and never confuse two callers or two label sets.
func TestInputMemoGivesTheSameDocument(t *testing.T) {
	m := newInputMemo()
	bg := &BreakGlass{Reason: "arrest", IssuedAt: 10, ExpiresAt: 20}
	callers := []Caller{
		{Subject: "a", Org: "Organization/x", Purposes: []string{"TREAT"}},
		{Subject: "a", Org: "Organization/x", Purposes: []string{"TREAT", "HPAYMT"}},
		{Subject: "a", Org: "Organization/x", Scopes: []string{"TREAT"}},
		{Subject: "a", Org: "Organization/x", OrgIdentifiers: []string{"TREAT"}},
		{Subject: "a", Org: "Organization/x", Purposes: []string{"TREAT"}, BreakGlass: bg},
		{Subject: "a", Org: "Organization/x", Purposes: []string{"TREAT"}, BreakGlass: &BreakGlass{Reason: "arrest", IssuedAt: 10, ExpiresAt: 21}},
		{Subject: "a:1", Org: "x"},
		{Subject: "a", Org: "1:x"},
		{Purposes: []string{"a", "b"}},
		{Purposes: []string{"a\x00b"}},
		{Purposes: []string{"1:a"}},
	}
	labelSets := [][]string{nil, {"a", "b"}, {"a\x00b"}, {"ab"}, {"1:a"}, {"a"}, {"b", "a"}}
	requests := []Request{{Interaction: "read", Type: "Condition", TimeNS: 5}, {Interaction: "read", Type: "Condition", TimeNS: 6},
		{Interaction: "search", Type: "Condition", TimeNS: 6}, {Interaction: "search", Type: "Observation", TimeNS: 6}}
	for round := range 2 { // the second round reads what the first stored
		for i := range callers {
			for j, ls := range labelSets {
				in := Input{Caller: callers[i], Patient: "Patient/p", Request: requests[(i+j)%len(requests)],
					Item: Item{Type: "Condition", Labels: ls}}
				got, want := in.value(ast.NewArray(), m, nil), in.value(ast.NewArray(), nil, nil)
				if got.Compare(want) != 0 {
					t.Fatalf("round %d, caller %d, labels %q: memo gave %v, want %v", round, i, ls, got, want)
				}
			}
		}
	}
	keys := map[string]int{}
	for i := range callers {
		var b strings.Builder
		callers[i].writeKey(&b)
		if j, dup := keys[b.String()]; dup {
			t.Fatalf("callers %d and %d share the key %q", j, i, b.String())
		}
		keys[b.String()] = i
	}
}

// A caller whose slices change after a decision is not mistaken for the
// one the memo saw: the memo keeps its own copy.
func TestInputMemoCopiesTheCaller(t *testing.T) {
	m := newInputMemo()
	c := Caller{Subject: "a", Org: "Organization/x", Purposes: []string{"TREAT"}}
	in := Input{Caller: c, Request: Request{Interaction: "read", Type: "Condition", TimeNS: 5}}
	in.value(ast.NewArray(), m, nil)
	c.Purposes[0] = "HMARKT" // the same backing array as in.Caller's
	in = Input{Caller: c, Request: Request{Interaction: "read", Type: "Condition", TimeNS: 5}}
	got, want := in.value(ast.NewArray(), m, nil), in.value(ast.NewArray(), nil, nil)
	if got.Compare(want) != 0 {
		t.Fatalf("memo gave %v, want %v", got, want)
	}
}

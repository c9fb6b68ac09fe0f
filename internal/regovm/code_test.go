package regovm

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// TestEveryStatementCompiles gives the compiler one statement of each type
// the interpreter runs and checks the instruction it makes: its opcode,
// and that each local and operand of the statement lands in the field the
// interpreter reads for it.
func TestEveryStatementCompiles(t *testing.T) {
	p := &Program{strs: []*ast.Term{ast.StringTerm("a"), ast.StringTerm("b")},
		nums: []*ast.Term{ast.NumberTerm("1.5"), ast.NumberTerm("2")}, calls: map[*ir.CallStmt]callee{}}
	p.consts = append(append([]*ast.Term{}, p.strs...), ast.InternedTerm(true), ast.InternedTerm(false), nil)
	c := &compiler{p: p, nstr: len(p.strs)}
	loc := func(l int) ir.Operand { return ir.Operand{Value: ir.Local(l)} }
	str := func(i int) ir.Operand { return ir.Operand{Value: ir.StringIndex(i)} }
	inner := &ir.Block{Stmts: []ir.Stmt{&ir.NopStmt{}}}
	builtin := &ir.CallStmt{Func: "count", Args: []ir.Operand{loc(3)}, Result: 4}
	planned := &ir.CallStmt{Func: "g0.data.p.r", Args: []ir.Operand{loc(0), loc(1)}, Result: 5}
	p.calls[builtin] = callee{fn: -1, name: "count"}
	p.calls[planned] = callee{fn: 0, name: "g0.data.p.r"}
	cases := []struct {
		st   ir.Stmt
		want instr
	}{
		{&ir.AssignVarStmt{Source: str(1), Target: 7}, instr{op: opAssignVar, target: 7, a: ^opnd(1)}},
		{&ir.AssignVarOnceStmt{Source: loc(3), Target: 7}, instr{op: opAssignVarOnce, target: 7, a: 3}},
		{&ir.DotStmt{Source: loc(2), Key: str(0), Target: 9}, instr{op: opDot, target: 9, a: 2, b: ^opnd(0)}},
		{&ir.EqualStmt{A: loc(2), B: ir.Operand{Value: ir.Bool(true)}}, instr{op: opEqual, a: 2, b: ^opnd(2)}},
		{&ir.NotEqualStmt{A: ir.Operand{Value: ir.Bool(false)}, B: loc(4)}, instr{op: opNotEqual, a: ^opnd(3), b: 4}},
		{&ir.BreakStmt{Index: 3}, instr{op: opBreak, n: 3}},
		{&ir.IsDefinedStmt{Source: 6}, instr{op: opIsDefined, target: 6}},
		{&ir.IsUndefinedStmt{Source: 6}, instr{op: opIsUndefined, target: 6}},
		{&ir.ResetLocalStmt{Target: 8}, instr{op: opResetLocal, target: 8}},
		{&ir.MakeNullStmt{Target: 8}, instr{op: opConst, target: 8, term: ast.InternedNullTerm}},
		{&ir.MakeNumberIntStmt{Value: 7, Target: 8}, instr{op: opConst, target: 8, term: ast.InternedTerm(7)}},
		{&ir.AssignIntStmt{Value: 2, Target: 8}, instr{op: opConst, target: 8, term: ast.InternedTerm(2)}},
		{&ir.MakeNumberRefStmt{Index: 1, Target: 8}, instr{op: opConst, target: 8, term: p.nums[1]}},
		{&ir.MakeArrayStmt{Capacity: 4, Target: 8}, instr{op: opMakeArray, target: 8, n: 4}},
		{&ir.MakeObjectStmt{Target: 10}, instr{op: opMakeObject, target: 10, n: 2}},
		{&ir.MakeSetStmt{Target: 11}, instr{op: opMakeSet, target: 11, n: 1}},
		{&ir.IsArrayStmt{Source: loc(2)}, instr{op: opIsArray, a: 2}},
		{&ir.IsObjectStmt{Source: loc(2)}, instr{op: opIsObject, a: 2}},
		{&ir.IsSetStmt{Source: loc(2)}, instr{op: opIsSet, a: 2}},
		{&ir.LenStmt{Source: loc(2), Target: 3}, instr{op: opLen, target: 3, a: 2}},
		{&ir.ArrayAppendStmt{Value: str(1), Array: 8}, instr{op: opArrayAppend, target: 8, a: ^opnd(1)}},
		{&ir.ObjectInsertStmt{Key: str(0), Value: loc(2), Object: 10}, instr{op: opObjectInsert, target: 10, a: ^opnd(0), b: 2}},
		{&ir.ObjectInsertOnceStmt{Key: loc(3), Value: str(1), Object: 10}, instr{op: opObjectInsertOnce, target: 10, a: 3, b: ^opnd(1)}},
		{&ir.ObjectMergeStmt{A: 2, B: 3, Target: 4}, instr{op: opObjectMerge, target: 4, a: 2, n: 3}},
		{&ir.SetAddStmt{Value: loc(2), Set: 11}, instr{op: opSetAdd, target: 11, a: 2}},
		{&ir.ResultSetAddStmt{Value: 5}, instr{op: opResultSetAdd, target: 5}},
		{&ir.ReturnLocalStmt{Source: 5}, instr{op: opReturn}},
		{&ir.NopStmt{}, instr{op: opNop}},
	}
	// The size hints count the inserts into each local in the blocks.
	hints := inserts([]*ir.Block{{Stmts: []ir.Stmt{
		&ir.ObjectInsertStmt{Object: 10}, &ir.ObjectInsertOnceStmt{Object: 10}, &ir.SetAddStmt{Set: 11},
	}}})
	for _, tc := range cases {
		var got instr
		c.stmt(&got, tc.st, fnInfo{hints: hints})
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%T: compiled to %+v, want %+v", tc.st, got, tc.want)
		}
	}
	var got instr
	c.stmt(&got, &ir.ScanStmt{Source: 2, Key: 3, Value: 4, Block: inner}, fnInfo{hints: hints})
	if got.op != opScan || got.target != 2 || got.a != 3 || got.b != 4 || len(got.blocks) != 1 || len(got.blocks[0]) != 1 {
		t.Errorf("scan compiled to %+v", got)
	}
	c.stmt(&got, &ir.NotStmt{Block: inner}, fnInfo{hints: hints})
	if got.op != opNot || len(got.blocks) != 1 || got.blocks[0][0].op != opNop {
		t.Errorf("not compiled to %+v", got)
	}
	c.stmt(&got, &ir.BlockStmt{Blocks: []*ir.Block{inner, inner}}, fnInfo{hints: hints})
	if got.op != opBlock || len(got.blocks) != 2 {
		t.Errorf("block compiled to %+v", got)
	}
	c.stmt(&got, builtin, fnInfo{hints: hints})
	if got.op != opCallBuiltin || got.target != 4 || got.call.callee.name != "count" || !reflect.DeepEqual(got.call.args, []opnd{3}) {
		t.Errorf("built-in call compiled to %+v", got)
	}
	c.stmt(&got, planned, fnInfo{hints: hints})
	if got.op != opCallFunc || got.target != 5 || got.call.callee.fn != 0 || !reflect.DeepEqual(got.call.args, []opnd{0, 1}) {
		t.Errorf("planned call compiled to %+v", got)
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	// The operands name the constants they stand for.
	s := &state{p: p}
	for o, want := range map[opnd]*ast.Term{^opnd(0): p.strs[0], ^opnd(1): p.strs[1], ^opnd(2): ast.BooleanTerm(true), ^opnd(3): ast.BooleanTerm(false)} {
		if got := s.operand(nil, o); got.Value.Compare(want.Value) != 0 {
			t.Errorf("operand %d is %v, want %v", o, got, want)
		}
	}
}

// TestMalformedPlanIsRefused: a plan naming a string or number the policy
// does not have is refused when it is compiled, not when it runs.
func TestMalformedPlanIsRefused(t *testing.T) {
	for name, st := range map[string]ir.Stmt{
		"string": &ir.AssignVarStmt{Source: ir.Operand{Value: ir.StringIndex(5)}, Target: 2},
		"number": &ir.MakeNumberRefStmt{Index: 5, Target: 2},
	} {
		pol := &ir.Policy{
			Static: &ir.Static{Strings: []*ir.StringConst{{Value: "a"}}},
			Plans:  &ir.Plans{Plans: []*ir.Plan{{Name: "q", Blocks: []*ir.Block{{Stmts: []ir.Stmt{st}}}}}},
			Funcs:  &ir.Funcs{},
		}
		if _, err := newProgram(pol, "x", ast.NewObject()); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s index out of range: compiled (err %v)", name, err)
		}
	}
}

// TestDataLookupsFolded: lookups in the policy data by constant keys are
// made once, when the program is compiled, and answer as topdown does:
// defined or not, on paths where their source was looked up and where it
// was not, beside lookups by keys from the input.
func TestDataLookupsFolded(t *testing.T) {
	ctx := context.Background()
	mods := parse(t, `package p

law := data.cfg.topics.HIV.law

missing := data.cfg.topics.HIV.nothing

free contains p if some p in data.cfg.topics.HIV.free

by_input := data.cfg.topics[input.t].law

labelled if input.l in data.cfg.labels

branch := x if {
	input.b
	x := data.cfg.topics.PSY.law
} else := y if {
	y := data.cfg.n
}

either := data.cfg.topics.PSY.free if input.b
either := data.cfg.topics.HIV.free if not input.b
`)
	data, err := ast.InterfaceToValue(vmData)
	if err != nil {
		t.Fatal(err)
	}
	for _, rule := range []string{"law", "missing", "free", "by_input", "labelled", "branch", "either"} {
		q := "x := data.p." + rule
		prog, err := Compile(ctx, q, "x", mods, data)
		if err != nil {
			t.Fatal(rule, err)
		}
		if !dataIsFixed(prog) {
			t.Fatalf("%s: the data local is not seen as fixed", rule)
		}
		for _, in := range []string{`{}`, `{"t": "HIV", "b": true, "l": "a|SUD"}`, `{"t": "PSY", "b": false, "l": "x"}`, `{"t": "none"}`} {
			input := ast.MustParseTerm(in).Value
			want, werr := reference(t, q, mods, vmData, input)
			got, gerr := prog.Eval(ctx, input, Options{StrictBuiltinErrors: true})
			if werr != nil || gerr != nil || !equal(want, got) {
				t.Errorf("%s with %s: topdown %v (%v), regovm %v (%v)", rule, in, want, werr, got, gerr)
			}
		}
	}
	// The lookups are folded: the rules' data reads compile to opDataDot.
	prog, err := Compile(ctx, "x := [data.p.law, data.p.branch]", "x", mods, data)
	if err != nil {
		t.Fatal(err)
	}
	folded := 0
	var count func(c code)
	count = func(c code) {
		for _, in := range c {
			if in.op == opDataDot {
				folded++
			}
			for _, b := range in.blocks {
				count(b)
			}
		}
	}
	for _, fn := range prog.funcs {
		for _, b := range fn.code {
			count(b)
		}
	}
	if folded < 3 {
		t.Errorf("%d lookups folded, want at least 3 (data.cfg, .topics, .HIV, ...)", folded)
	}
}

// TestDataNotFixedWhenWritten: a plan that writes the data local, or a
// call that passes something else as the data, turns folding off.
func TestDataNotFixedWhenWritten(t *testing.T) {
	fn := &ir.Func{Name: "f", Params: []ir.Local{ir.Input, ir.Data}, Return: 2,
		Blocks: []*ir.Block{{Stmts: []ir.Stmt{&ir.NopStmt{}}}}}
	call := func(data ir.Local) *ir.CallStmt {
		return &ir.CallStmt{Func: "f", Args: []ir.Operand{{Value: ir.Local(ir.Input)}, {Value: data}}, Result: 3}
	}
	for name, stmts := range map[string][]ir.Stmt{
		"fixed":         {call(ir.Data)},
		"written":       {&ir.AssignVarStmt{Source: ir.Operand{Value: ir.Local(4)}, Target: ir.Data}, call(ir.Data)},
		"other as data": {call(4)},
	} {
		pol := &ir.Policy{
			Static: &ir.Static{},
			Plans:  &ir.Plans{Plans: []*ir.Plan{{Name: "q", Blocks: []*ir.Block{{Stmts: stmts}}}}},
			Funcs:  &ir.Funcs{Funcs: []*ir.Func{fn}},
		}
		prog, err := newProgram(pol, "x", ast.NewObject())
		if err != nil {
			t.Fatal(name, err)
		}
		if got := dataIsFixed(prog); got != (name == "fixed") {
			t.Errorf("%s: dataIsFixed %v", name, got)
		}
	}
}

// TestDataFoldUnboundSource: a folded lookup whose source lookup did not
// run on the path taken fails, as the lookup itself would have. The
// planner does not emit such plans for the default policy; this one is
// made by hand.
func TestDataFoldUnboundSource(t *testing.T) {
	str := func(i int) ir.Operand { return ir.Operand{Value: ir.StringIndex(i)} }
	loc := func(l int) ir.Operand { return ir.Operand{Value: ir.Local(l)} }
	pol := &ir.Policy{
		Static: &ir.Static{Strings: []*ir.StringConst{{Value: "go"}, {Value: "cfg"}, {Value: "n"}, {Value: "x"}}},
		Plans: &ir.Plans{Plans: []*ir.Plan{{Name: "q", Blocks: []*ir.Block{{Stmts: []ir.Stmt{
			// local 2 := data.cfg, only when input.go is defined
			&ir.BlockStmt{Blocks: []*ir.Block{{Stmts: []ir.Stmt{
				&ir.DotStmt{Source: loc(int(ir.Input)), Key: str(0), Target: 5},
				&ir.DotStmt{Source: loc(int(ir.Data)), Key: str(1), Target: 2},
			}}}},
			&ir.DotStmt{Source: loc(2), Key: str(2), Target: 3}, // local 2's .n: folded
			&ir.MakeObjectStmt{Target: 4},
			&ir.ObjectInsertStmt{Key: str(3), Value: loc(3), Object: 4},
			&ir.ResultSetAddStmt{Value: 4},
		}}}}}},
		Funcs: &ir.Funcs{},
	}
	data, err := ast.InterfaceToValue(vmData)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := newProgram(pol, "x", data)
	if err != nil {
		t.Fatal(err)
	}
	if prog.code[0][1].op != opDataDot {
		t.Fatalf("the lookup of .n compiled to %+v, not folded", prog.code[0][1])
	}
	for in, want := range map[string]ast.Value{`{"go": true}`: ast.Number("3.5"), `{}`: nil} {
		got, err := prog.Eval(context.Background(), ast.MustParseTerm(in).Value, Options{})
		if err != nil || !equal(got, want) {
			t.Errorf("input %s: %v (%v), want %v", in, got, err, want)
		}
	}
}

// TestStatsCountCalls: Stats counts the calls of the policy's rules and
// functions, not a rule's value reused within the evaluation, and adds
// up over evaluations. (base reads the input: a rule that reads none is
// worked out when the program is compiled, and no evaluation calls it.)
func TestStatsCountCalls(t *testing.T) {
	ctx := context.Background()
	mods := parse(t, `package p

f(x) := x + 1

base := input.b

one := f(base)

three := [f(base), f(base + 1), f(base + 2)]
`)
	count := func(rule string, times int) int {
		prog, err := Compile(ctx, "x := data.p."+rule, "x", mods, ast.NewObject())
		if err != nil {
			t.Fatal(err)
		}
		var st Stats
		for range times {
			if v, err := prog.Eval(ctx, ast.MustParseTerm(`{"b": 1}`).Value, Options{Stats: &st}); err != nil || v == nil {
				t.Fatalf("%s: %v %v", rule, v, err)
			}
		}
		return st.Calls
	}
	one, three := count("one", 1), count("three", 1)
	if one < 2 || three-one != 2 { // three calls f twice more; base is worked out once
		t.Errorf("calls: one %d, three %d", one, three)
	}
	if twice := count("one", 2); twice != 2*one {
		t.Errorf("two evaluations counted %d calls, one %d", twice, one)
	}
}

package regovm

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
)

// The plan's statements are interface values pointing to structs spread
// over the heap, each with its own shape: interpreting them directly costs
// a type switch per statement and a type switch per operand, and a cache
// miss for most statements. Compile translates each block once into code:
// a slice of instrs of one shape, dispatched on a small integer, whose
// operands are plain integers (a local, or a constant of the program).
// The semantics are the statements' own, one for one (stmt in vm.go).

// opcode is an instr's operation; one per statement type the interpreter
// runs (supported).
type opcode uint8

const (
	opNop opcode = iota
	opAssignVar
	opAssignVarOnce
	opDot
	opEqual
	opNotEqual
	opCallFunc    // a planned function
	opCallBuiltin // a built-in
	opBlock
	opBreak
	opScan
	opNot
	opIsDefined
	opIsUndefined
	opResetLocal
	opConst // MakeNull, MakeNumberInt, MakeNumberRef, AssignInt: a constant term
	opMakeArray
	opMakeObject
	opMakeSet
	opIsArray
	opIsObject
	opIsSet
	opLen
	opArrayAppend
	opObjectInsert
	opObjectInsertOnce
	opObjectMerge
	opSetAdd
	opResultSetAdd
	opReturn
	opDataDot // a DotStmt on the policy data with constant keys: its value, term
)

// opnd is an operand: a local when >= 0, else the constant ^o of the
// program (Program.consts: the plan's strings, then true, then false,
// then undefined, which stands in for an operand the compiler refused).
type opnd int32

// instr is one statement, compiled. Which fields mean what depends on op;
// the comments name the statement fields they hold.
type instr struct {
	op opcode
	// target: the local written (Target, Result, Array, Object, Set), or
	// read (IsDefined's and IsUndefined's Source, ResultSetAdd's Value,
	// Scan's Source).
	target int32
	a, b   opnd // Source/A/Key/Value, B/Value; Scan: Key and Value locals; opDataDot: a is Source
	// n: Break's index, MakeArray's capacity, MakeObject's and
	// MakeSet's size hint, ObjectMerge's B.
	n      int
	term   *ast.Term // opConst: the constant; opDataDot: the lookup's value
	blocks []code    // Block's blocks; Scan's and Not's block is blocks[0]
	call   *callSite // opCallFunc, opCallBuiltin
}

// code is a compiled block.
type code []instr

// callSite is a compiled CallStmt.
type callSite struct {
	callee callee
	args   []opnd
}

// compiler translates a Program's blocks.
type compiler struct {
	p    *Program
	nstr int
	err  error
	// dataFixed: local ir.Data holds the policy data in every frame
	// (dataIsFixed), so lookups in it with constant keys can be made once.
	dataFixed bool
}

// fnInfo is what the compiler knows of one function's (or the plan's)
// blocks as a whole.
type fnInfo struct {
	hints map[ir.Local]int       // size hints (inserts)
	folds map[ir.Local]*ast.Term // locals bound once to a constant lookup in the data (dataFolds)
}

func (c *compiler) info(blocks []*ir.Block) fnInfo {
	fi := fnInfo{hints: inserts(blocks)}
	if c.dataFixed {
		fi.folds = c.dataFolds(blocks)
	}
	return fi
}

func (c *compiler) operand(o ir.Operand) opnd {
	switch v := o.Value.(type) {
	case ir.Local:
		return opnd(v)
	case ir.StringIndex:
		if int(v) < 0 || int(v) >= c.nstr {
			c.fail(fmt.Errorf("%w: string index %d out of range", ErrUnsupported, v))
			return ^opnd(len(c.p.consts) - 1)
		}
		return ^opnd(v)
	case ir.Bool:
		if v {
			return ^opnd(c.nstr)
		}
		return ^opnd(c.nstr + 1)
	}
	c.fail(fmt.Errorf("%w: operand %T", ErrUnsupported, o.Value))
	return ^opnd(len(c.p.consts) - 1) // the undefined constant
}

func (c *compiler) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// inserts counts, per local, the object inserts and set adds of the
// blocks that target it: a size hint for the MakeObjectStmt or
// MakeSetStmt that makes it, which then grows no map or key list for
// values built by straight-line code (as a rule's object value, or a
// decision, is).
func inserts(blocks []*ir.Block) map[ir.Local]int {
	n := map[ir.Local]int{}
	for _, b := range blocks {
		walk(b, func(st ir.Stmt) {
			switch x := st.(type) {
			case *ir.ObjectInsertStmt:
				n[x.Object]++
			case *ir.ObjectInsertOnceStmt:
				n[x.Object]++
			case *ir.SetAddStmt:
				n[x.Set]++
			}
		})
	}
	return n
}

// maxHint caps a size hint: a key list or map sized for more than this is
// grown as needed.
const maxHint = 16

func (c *compiler) blocks(bs []*ir.Block, fi fnInfo) []code {
	out := make([]code, len(bs))
	for i, b := range bs {
		out[i] = c.block(b, fi)
	}
	return out
}

func (c *compiler) block(b *ir.Block, fi fnInfo) code {
	out := make(code, len(b.Stmts))
	for i, st := range b.Stmts {
		c.stmt(&out[i], st, fi)
	}
	return out
}

func (c *compiler) stmt(in *instr, st ir.Stmt, fi fnInfo) {
	hints := fi.hints
	switch x := st.(type) {
	case *ir.AssignVarStmt:
		*in = instr{op: opAssignVar, target: int32(x.Target), a: c.operand(x.Source)}
	case *ir.AssignVarOnceStmt:
		*in = instr{op: opAssignVarOnce, target: int32(x.Target), a: c.operand(x.Source)}
	case *ir.DotStmt:
		if t := fi.folds[x.Target]; t != nil {
			src, _ := x.Source.Value.(ir.Local) // a local: dataFolds folds no other
			*in = instr{op: opDataDot, target: int32(x.Target), a: opnd(src), term: t}
			return
		}
		*in = instr{op: opDot, target: int32(x.Target), a: c.operand(x.Source), b: c.operand(x.Key)}
	case *ir.EqualStmt:
		*in = instr{op: opEqual, a: c.operand(x.A), b: c.operand(x.B)}
	case *ir.NotEqualStmt:
		*in = instr{op: opNotEqual, a: c.operand(x.A), b: c.operand(x.B)}
	case *ir.CallStmt:
		site := &callSite{callee: c.p.calls[x], args: make([]opnd, len(x.Args))}
		for j, a := range x.Args {
			site.args[j] = c.operand(a)
		}
		op := opCallBuiltin
		if site.callee.fn >= 0 {
			op = opCallFunc
		}
		*in = instr{op: op, target: int32(x.Result), call: site}
	case *ir.BlockStmt:
		*in = instr{op: opBlock, blocks: c.blocks(x.Blocks, fi)}
	case *ir.BreakStmt:
		*in = instr{op: opBreak, n: int(x.Index)}
	case *ir.ScanStmt:
		*in = instr{op: opScan, target: int32(x.Source), a: opnd(x.Key), b: opnd(x.Value),
			blocks: []code{c.block(x.Block, fi)}}
	case *ir.NotStmt:
		*in = instr{op: opNot, blocks: []code{c.block(x.Block, fi)}}
	case *ir.IsDefinedStmt:
		*in = instr{op: opIsDefined, target: int32(x.Source)}
	case *ir.IsUndefinedStmt:
		*in = instr{op: opIsUndefined, target: int32(x.Source)}
	case *ir.ResetLocalStmt:
		*in = instr{op: opResetLocal, target: int32(x.Target)}
	case *ir.MakeNullStmt:
		*in = instr{op: opConst, target: int32(x.Target), term: ast.InternedNullTerm}
	case *ir.MakeNumberIntStmt:
		*in = instr{op: opConst, target: int32(x.Target), term: intTerm(x.Value)}
	case *ir.MakeNumberRefStmt:
		if x.Index < 0 || x.Index >= len(c.p.nums) {
			c.fail(fmt.Errorf("%w: number index %d out of range", ErrUnsupported, x.Index))
			return
		}
		*in = instr{op: opConst, target: int32(x.Target), term: c.p.nums[x.Index]}
	case *ir.AssignIntStmt:
		*in = instr{op: opConst, target: int32(x.Target), term: intTerm(x.Value)}
	case *ir.MakeArrayStmt:
		*in = instr{op: opMakeArray, target: int32(x.Target), n: max(int(x.Capacity), 0)}
	case *ir.MakeObjectStmt:
		*in = instr{op: opMakeObject, target: int32(x.Target), n: min(hints[x.Target], maxHint)}
	case *ir.MakeSetStmt:
		*in = instr{op: opMakeSet, target: int32(x.Target), n: min(hints[x.Target], maxHint)}
	case *ir.IsArrayStmt:
		*in = instr{op: opIsArray, a: c.operand(x.Source)}
	case *ir.IsObjectStmt:
		*in = instr{op: opIsObject, a: c.operand(x.Source)}
	case *ir.IsSetStmt:
		*in = instr{op: opIsSet, a: c.operand(x.Source)}
	case *ir.LenStmt:
		*in = instr{op: opLen, target: int32(x.Target), a: c.operand(x.Source)}
	case *ir.ArrayAppendStmt:
		*in = instr{op: opArrayAppend, target: int32(x.Array), a: c.operand(x.Value)}
	case *ir.ObjectInsertStmt:
		*in = instr{op: opObjectInsert, target: int32(x.Object), a: c.operand(x.Key), b: c.operand(x.Value)}
	case *ir.ObjectInsertOnceStmt:
		*in = instr{op: opObjectInsertOnce, target: int32(x.Object), a: c.operand(x.Key), b: c.operand(x.Value)}
	case *ir.ObjectMergeStmt:
		*in = instr{op: opObjectMerge, target: int32(x.Target), a: opnd(x.A), n: int(x.B)}
	case *ir.SetAddStmt:
		*in = instr{op: opSetAdd, target: int32(x.Set), a: c.operand(x.Value)}
	case *ir.ResultSetAddStmt:
		*in = instr{op: opResultSetAdd, target: int32(x.Value)}
	case *ir.ReturnLocalStmt:
		*in = instr{op: opReturn}
	case *ir.NopStmt:
		*in = instr{op: opNop}
	default:
		c.fail(fmt.Errorf("%w: statement %T", ErrUnsupported, st))
	}
}

// dataIsFixed reports whether local ir.Data holds the policy data in every
// frame: the plan's frame starts so (Eval), every function takes input and
// data as its first two parameters, every call passes them on as they are,
// and no statement writes the local. Then a lookup in the data with a
// constant key has the same answer in every evaluation.
func dataIsFixed(p *Program) bool {
	for _, fn := range p.funcs {
		if len(fn.f.Params) < 2 || fn.f.Params[0] != ir.Input || fn.f.Params[1] != ir.Data {
			return false
		}
	}
	fixed := true
	check := func(st ir.Stmt) {
		writes(st, func(l ir.Local) {
			if l == ir.Data {
				fixed = false
			}
		})
		if x, ok := st.(*ir.CallStmt); ok && p.calls[x].fn >= 0 {
			if len(x.Args) < 2 || x.Args[0].Value != ir.Local(ir.Input) || x.Args[1].Value != ir.Local(ir.Data) {
				fixed = false
			}
		}
	}
	for _, b := range p.plan.Blocks {
		walk(b, check)
	}
	for _, fn := range p.funcs {
		for _, b := range fn.f.Blocks {
			walk(b, check)
		}
	}
	return fixed
}

// dataFolds finds the locals of one function's blocks that hold a lookup
// in the policy data by constant keys (data.ds4p.config.part2.labels):
// locals written by exactly one statement, a DotStmt with a constant
// string key whose source is local ir.Data or another such local, and
// whose lookup is defined. Each maps to the lookup's value, which
// opDataDot binds without looking it up. Should its source be unbound when
// it runs (a path on which the source's own lookup did not run), it fails
// as the DotStmt would.
func (c *compiler) dataFolds(blocks []*ir.Block) map[ir.Local]*ast.Term {
	nwrites := map[ir.Local]int{}
	for _, b := range blocks {
		walk(b, func(st ir.Stmt) { writes(st, func(l ir.Local) { nwrites[l]++ }) })
	}
	folds := map[ir.Local]*ast.Term{}
	for _, b := range blocks {
		walk(b, func(st ir.Stmt) {
			x, ok := st.(*ir.DotStmt)
			if !ok || nwrites[x.Target] != 1 || x.Target == ir.Data {
				return
			}
			src, ok := x.Source.Value.(ir.Local)
			if !ok {
				return
			}
			key, ok := x.Key.Value.(ir.StringIndex)
			if !ok || int(key) < 0 || int(key) >= c.nstr {
				return
			}
			var from *ast.Term
			switch {
			case src == ir.Data:
				from = c.p.data
			default:
				from = folds[src]
			}
			if from == nil {
				return
			}
			if v := dot(from, c.p.strs[key]); v != nil {
				folds[x.Target] = v
			}
		})
	}
	return folds
}

// writes calls f with each local a statement binds, or whose value it
// changes in place.
func writes(st ir.Stmt, f func(ir.Local)) {
	switch x := st.(type) {
	case *ir.AssignVarStmt:
		f(x.Target)
	case *ir.AssignVarOnceStmt:
		f(x.Target)
	case *ir.DotStmt:
		f(x.Target)
	case *ir.CallStmt:
		f(x.Result)
	case *ir.CallDynamicStmt:
		f(x.Result)
	case *ir.ScanStmt:
		f(x.Key)
		f(x.Value)
	case *ir.ResetLocalStmt:
		f(x.Target)
	case *ir.MakeNullStmt:
		f(x.Target)
	case *ir.MakeNumberIntStmt:
		f(x.Target)
	case *ir.MakeNumberRefStmt:
		f(x.Target)
	case *ir.AssignIntStmt:
		f(x.Target)
	case *ir.MakeArrayStmt:
		f(x.Target)
	case *ir.MakeObjectStmt:
		f(x.Target)
	case *ir.MakeSetStmt:
		f(x.Target)
	case *ir.LenStmt:
		f(x.Target)
	case *ir.ArrayAppendStmt:
		f(x.Array)
	case *ir.ObjectInsertStmt:
		f(x.Object)
	case *ir.ObjectInsertOnceStmt:
		f(x.Object)
	case *ir.ObjectMergeStmt:
		f(x.Target)
	case *ir.SetAddStmt:
		f(x.Set)
	case *ir.WithStmt:
		f(x.Local)
	}
}

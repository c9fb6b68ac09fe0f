package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// reads records which input fields a policy's modules refer to, so that the
// decision cache keys on exactly those: a policy that never reads the
// caller's client id shares its decisions across clients, one that never
// reads input.patient across patients with the same consents (the
// default policy reads a patient's consents, not the patient).
type reads struct {
	all    bool
	fields map[string]bool // "patient", "caller.org", "request.type", ...
}

// has reports whether the policy may read field ("caller.org").
func (r *reads) has(field string) bool {
	if r == nil || r.all {
		return true
	}
	if r.fields[field] {
		return true
	}
	for i := 0; i < len(field); i++ {
		if field[i] == '.' {
			return r.fields[field[:i]+".*"]
		}
	}
	return false
}

// inputReads walks every reference of the modules. A reference to input as
// a whole, or with a computed key, counts as reading everything.
func inputReads(mods map[string]*ast.Module) *reads {
	r := &reads{fields: map[string]bool{}}
	for _, m := range mods {
		ast.WalkRefs(m, func(ref ast.Ref) bool {
			r.add(ref)
			return false
		})
	}
	return r
}

func (r *reads) add(ref ast.Ref) {
	if len(ref) == 0 || !ref[0].Equal(ast.InputRootDocument) {
		return
	}
	top, ok := key(ref, 1)
	if !ok {
		r.all = true
		return
	}
	if top == "patient" || top == "consents" || top == "version" || top == "brief" || top == "fixed_verdicts" {
		r.fields[top] = true
		return
	}
	field, ok := key(ref, 2)
	if !ok {
		r.fields[top+".*"] = true
		return
	}
	r.fields[top+"."+field] = true
}

// key returns the i-th element of ref as a constant string.
func key(ref ast.Ref, i int) (string, bool) {
	if i >= len(ref) {
		return "", false
	}
	s, ok := ref[i].Value.(ast.String)
	return string(s), ok
}

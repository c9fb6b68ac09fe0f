package policy

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// testFileRules names the rules of the tree's Rego test files (*_test.rego)
// that are part of the policy the tests see but not of the one that
// serves: a rule (not a test) that shares its path with a rule of the
// policy's modules (another clause of consent_denies, a default, a value
// of a function) or that the modules read by its full path
// (data.ds4p.extra). The tests run on the modules and the test files
// together, the proxy decides with the modules alone, so such a rule made
// the tests pass on a policy other than the one verified to serve: a deny
// clause kept in a test file withheld in every test and in no request (QA
// round 27). Helpers of their own (fixtures) are left alone.
func testFileRules(fsys fs.FS, served map[string]*ast.Module) ([]string, error) {
	res, err := loadTree(fsys, true)
	if err != nil {
		return nil, err
	}
	servedRules := map[string]bool{}
	var reads []ast.Ref
	for _, m := range served {
		for _, r := range m.Rules {
			servedRules[rulePath(m, r).String()] = true
		}
		ast.WalkRefs(m, func(r ast.Ref) bool {
			if r.HasPrefix(ast.DefaultRootRef) {
				reads = append(reads, r.ConstantPrefix())
			}
			return false
		})
	}
	var out []string
	for name, m := range res.ParsedModules() {
		if !strings.HasSuffix(name, "_test.rego") {
			continue
		}
		for _, r := range m.Rules {
			ref := rulePath(m, r)
			if isTestName(r.Head.Ref()[0].Value) {
				continue
			}
			why := ""
			if servedRules[ref.String()] {
				why = "a rule of the policy's modules"
			} else {
				for _, read := range reads {
					if read.HasPrefix(ref) { // a read of a whole package is no read of one rule
						why = "read by the policy's modules as " + read.String()
						break
					}
				}
			}
			if why != "" {
				out = append(out, fmt.Sprintf("%s:%d: %s is %s: the tests see it, the proxy does not (test files are not loaded to serve); move it to a module", name, r.Location.Row, ref, why))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// rulePath is the data path of rule r of module m (its ground prefix), in
// the terms a read of it has: data.ds4p.consent_denies.
func rulePath(m *ast.Module, r *ast.Rule) ast.Ref {
	return m.Package.Path.Extend(r.Head.Ref().GroundPrefix()) // the head as a string
}

// isTestName reports whether a rule name is a test's (as opa test reads
// them: test_ or todo_test_).
func isTestName(v ast.Value) bool {
	s, ok := v.(ast.String)
	if !ok {
		if vr, ok := v.(ast.Var); ok {
			s = ast.String(vr)
		} else {
			return false
		}
	}
	return strings.HasPrefix(string(s), "test_") || strings.HasPrefix(string(s), "todo_test_")
}

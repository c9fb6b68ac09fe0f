package policy

import (
	"strings"
	"sync"

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
	// typeCriteria are the consent criteria whose permits/denies clauses
	// read input.item.type; typeElsewhere is set when any other rule reads
	// it (or input.item, or input, as a whole). Without typeElsewhere, a
	// decision depends on the item's type only through provisions stating
	// one of typeCriteria: for a patient whose consents state none, the
	// decision is the same for every type (see typeBlind).
	typeCriteria  map[string]bool
	typeElsewhere bool
	// keyed[f] is has(keyNames[f]), worked out once (see keyFields).
	keyed     [numKeyFields]bool
	keyedOnce sync.Once
}

// The input fields a decision's cache key holds when the policy reads them
// (Input.cacheKey).
const (
	keyBrief = iota
	keyPatient
	keySubject
	keyOrg
	keyOrgIdentifiers
	keyClient
	keyScopes
	keyPurposes
	keyBreakGlass
	keyFHIRUser
	keyCallerIsPatient
	keyInteraction
	keyRequestType
	numKeyFields
)

var keyNames = [numKeyFields]string{
	keyBrief: "brief", keyPatient: "patient", keySubject: "caller.subject", keyOrg: "caller.org",
	keyOrgIdentifiers: "caller.org_identifiers", keyClient: "caller.client", keyScopes: "caller.scopes",
	keyPurposes: "caller.purposes", keyBreakGlass: "caller.break_glass",
	keyFHIRUser: "caller.fhir_user", keyCallerIsPatient: "caller_is_patient",
	keyInteraction: "request.interaction", keyRequestType: "request.type",
}

// allKeyed is keyFields of a policy that may read anything.
var allKeyed = func() (k [numKeyFields]bool) {
	for i := range k {
		k[i] = true
	}
	return k
}()

// keyFields reports, for each of keyNames, whether the policy may read it.
func (r *reads) keyFields() *[numKeyFields]bool {
	if r == nil || r.all {
		return &allKeyed
	}
	r.keyedOnce.Do(func() {
		for i, name := range keyNames {
			r.keyed[i] = r.has(name)
		}
	})
	return &r.keyed
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
	r := &reads{fields: map[string]bool{}, typeCriteria: map[string]bool{}}
	for _, m := range mods {
		ast.WalkRefs(m, func(ref ast.Ref) bool {
			r.add(ref)
			return false
		})
		for _, imp := range m.Imports { // import input.item as it: every read is hidden
			if ref, ok := imp.Path.Value.(ast.Ref); ok && ref[0].Equal(ast.InputRootDocument) {
				r.typeElsewhere = true
			}
		}
		for _, rule := range m.Rules {
			crit, isCriterion := criterionClause(rule)
			ast.WalkRefs(rule, func(ref ast.Ref) bool {
				if !readsItemType(ref) {
					return false
				}
				if isCriterion {
					r.typeCriteria[crit] = true
				} else {
					r.typeElsewhere = true
				}
				return false
			})
		}
	}
	return r
}

// readsItemType reports a reference that may read input.item.type:
// input.item.type itself, or input or input.item whole or by a computed key.
func readsItemType(ref ast.Ref) bool {
	if !ref[0].Equal(ast.InputRootDocument) {
		return false
	}
	top, ok := key(ref, 1)
	if !ok {
		return true
	}
	if top != "item" {
		return false
	}
	field, ok := key(ref, 2)
	return !ok || field == "type"
}

// criterionClause reports a clause of the permits or denies function for
// a named criterion (a string first argument), and the criterion.
func criterionClause(r *ast.Rule) (string, bool) {
	name := r.Head.Name.String()
	if len(r.Head.Reference) > 0 {
		name = strings.Trim(r.Head.Reference[len(r.Head.Reference)-1].Value.String(), `"`)
	}
	if (name != "permits" && name != "denies") || len(r.Head.Args) == 0 {
		return "", false
	}
	s, ok := r.Head.Args[0].Value.(ast.String)
	return string(s), ok
}

// typeBlind reports that decisions for cs's patient do not depend on the
// item's type: nothing but the clauses of typeCriteria reads it, and no
// provision of cs states one of them.
func (r *reads) typeBlind(cs *consentSet) bool {
	if r == nil || r.all || r.typeElsewhere || cs == nil {
		return false
	}
	for c := range r.typeCriteria {
		if cs.criteria[c] {
			return false
		}
	}
	return true
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
	if top == "patient" || top == "consents" || top == "version" || top == "brief" || top == "fixed_verdicts" || top == "caller_is_patient" {
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

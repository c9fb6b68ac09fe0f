package policy

import (
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The per-patient consent index. When a patient's consents are converted to
// their policy form (once per consent versions, see consentSet), each
// consent gets an "index" the default policy looks up instead of scanning
// every provision: the positions of its rules by the actors they name.
//
//	"index": {
//	  "any_actor": [0, 3],                      // rules that name no actor
//	  "by_actor": {"Organization/org-a": [1]}   // rules naming this actor
//	}
//
// A rule that names actors (at any level of its provision path) is listed
// under each actor of its first level that names any; a caller none of
// whose names (or general designations, config.designations) is among them
// cannot match it, for a permit or a deny alike (actor_matches), so the
// policy tests only any_actor and the rules under the caller's names. The
// index never decides: every candidate rule is still tested in full.
//
// BenchmarkConsentIndex compares it with the plain scan.

// indexConsent adds the index to a consent object with rules.
func indexConsent(t *ast.Term) *ast.Term {
	c, ok := t.Value.(ast.Object)
	if !ok {
		return t
	}
	rt := c.Get(kRules)
	if rt == nil {
		return t
	}
	rules, ok := rt.Value.(*ast.Array)
	if !ok {
		return t
	}
	c = c.Copy()
	c.Insert(kIndex, ast.NewTerm(ruleIndex(rules)))
	return ast.NewTerm(c)
}

func ruleIndex(rules *ast.Array) ast.Object {
	var anyActor []*ast.Term
	byActor := map[string][]*ast.Term{}
	var order []string
	for i := range rules.Len() {
		actors := firstActors(rules.Elem(i).Value)
		if actors == nil || actors.Until(func(a *ast.Term) bool {
			s, ok := a.Value.(ast.String)
			return ok && groupActor(string(s))
		}) {
			anyActor = append(anyActor, ast.IntNumberTerm(i))
			continue
		}
		seen := map[string]bool{}
		actors.Foreach(func(a *ast.Term) {
			s, ok := a.Value.(ast.String)
			if !ok || seen[string(s)] {
				return
			}
			seen[string(s)] = true
			if _, ok := byActor[string(s)]; !ok {
				order = append(order, string(s))
			}
			byActor[string(s)] = append(byActor[string(s)], ast.IntNumberTerm(i))
		})
	}
	by := ast.NewObject()
	for _, a := range order {
		by.Insert(ast.StringTerm(a), ast.ArrayTerm(byActor[a]...))
	}
	return ast.NewObject(
		ast.Item(kAnyActor, ast.ArrayTerm(anyActor...)),
		ast.Item(kByActor, ast.NewTerm(by)),
	)
}

// consentRuleIndex is ruleIndex of the policy form of rules (ConsentRule.term
// keeps every rule, and a level's actors as they are), built from the Go
// values: no maps, no walk of the terms. The first level naming an actor
// is the first whose Actors is not empty: a level the compaction drops
// (it states nothing) names none.
func consentRuleIndex(rules []ConsentRule) ast.Object {
	var anyActor []*ast.Term
	type positions struct {
		actor string
		at    []*ast.Term
	}
	var byActor []positions // in the order the actors first appear
	for i := range rules {
		var actors []string
		for j := range rules[i].Conditions {
			if a := rules[i].Conditions[j].Actors; len(a) > 0 {
				actors = a
				break
			}
		}
		if actors == nil || slices.ContainsFunc(actors, groupActor) {
			anyActor = append(anyActor, ast.InternedTerm(i))
			continue
		}
	actor:
		for k, a := range actors {
			if slices.Contains(actors[:k], a) {
				continue // named twice in the level: listed once
			}
			for n := range byActor {
				if byActor[n].actor == a {
					byActor[n].at = append(byActor[n].at, ast.InternedTerm(i))
					continue actor
				}
			}
			byActor = append(byActor, positions{actor: a, at: []*ast.Term{ast.InternedTerm(i)}})
		}
	}
	by := make([][2]*ast.Term, len(byActor))
	for n, p := range byActor {
		by[n] = ast.Item(ast.StringTerm(p.actor), ast.ArrayTerm(p.at...))
	}
	return ast.NewObject(
		ast.Item(kAnyActor, ast.ArrayTerm(anyActor...)),
		ast.Item(kByActor, ast.ObjectTerm(by...)),
	)
}

// groupActor reports whether actor is of a type no caller can be (the
// default policy's group_actor_types, consent.rego): a deny naming one
// applies to every caller unless a designation lists it, so a rule naming
// one at its first actor level is a candidate for every caller (any_actor).
func groupActor(actor string) bool {
	for _, t := range []string{"Group/", "CareTeam/", "HealthcareService/", "Location/"} {
		if strings.HasPrefix(actor, t) {
			return true
		}
	}
	return false
}

// firstActors returns the actors of the first level of rule that names
// any, or nil.
func firstActors(rule ast.Value) *ast.Array {
	obj, ok := rule.(ast.Object)
	if !ok {
		return nil
	}
	ct := obj.Get(kConditions)
	if ct == nil {
		return nil
	}
	conds, ok := ct.Value.(*ast.Array)
	if !ok {
		return nil
	}
	for i := range conds.Len() {
		level, ok := conds.Elem(i).Value.(ast.Object)
		if !ok {
			continue
		}
		if at := level.Get(kActors); at != nil {
			if a, ok := at.Value.(*ast.Array); ok && a.Len() > 0 {
				return a
			}
		}
	}
	return nil
}

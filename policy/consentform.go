package policy

import (
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Consent is one consent in the policy input's form (input.consents[_],
// documented in rego/schema/input.schema.json), as Go values. The json tags
// are the contract; consent.Normalized carries the same ones.
//
// An Input's Consents may hold any value that encodes to this form as JSON,
// but the engine converts other Go values generically: a struct goes
// through a JSON round trip, ~36 µs for a one-provision Part 2 consent.
// A *Consent, or a ConsentForm, is converted directly, compacted and
// indexed as it is built (see newConsentSet).
type Consent struct {
	ID           string        `json:"id"`
	Version      string        `json:"version"`
	Status       string        `json:"status"`
	Patient      string        `json:"patient"`
	Policies     []string      `json:"policies"`
	Start        int64         `json:"start_ns"`
	End          int64         `json:"end_ns"`
	Rules        []ConsentRule `json:"rules"`
	RootTypeFrom string        `json:"root_type_from"`
	Source       string        `json:"source,omitempty"`
	DenyOnly     bool          `json:"deny_only,omitempty"`
	Unreadable   bool          `json:"unreadable,omitempty"`
}

// ConsentRule is one provision of a consent, with its conditions from the
// root down.
type ConsentRule struct {
	Path       string        `json:"path"`
	Depth      int           `json:"depth"`
	Type       string        `json:"type"`
	Conditions []ConsentCond `json:"conditions"`
}

// ConsentCond is what one provision level matches on.
type ConsentCond struct {
	Actors    []string         `json:"actors"`
	Roles     []string         `json:"roles"`
	Purposes  []string         `json:"purposes"`
	Labels    []string         `json:"labels"`
	Classes   []string         `json:"classes"`
	Codes     []string         `json:"codes"`
	Actions   []string         `json:"actions"`
	Start     int64            `json:"start_ns"`
	End       int64            `json:"end_ns"`
	DataStart int64            `json:"data_start_ns"`
	DataEnd   int64            `json:"data_end_ns"`
	Data      []string         `json:"data"`
	DataRefs  []ConsentDataRef `json:"data_refs"`
}

// ConsentDataRef is one provision.data entry.
type ConsentDataRef struct {
	Reference string `json:"reference"`
	Meaning   string `json:"meaning"`
}

// ConsentForm is a consent value that gives its policy form when asked:
// the engine asks only when it has not converted these consent versions
// before (Input.ConsentKey), so a caller that keeps consents in another
// type pays for the mapping only then.
type ConsentForm interface {
	PolicyConsent() *Consent
}

// term builds c's policy form as the generic path would (its JSON encoding
// converted, then compactConsent and, with index, indexConsent), without
// the round trip. It returns nil when c is another patient's than patient
// (when patient is set); otherwise it adds to criteria the criteria its
// provision levels state (what collectCriteria finds in the term).
func (c *Consent) term(patient string, index bool, criteria map[string]bool) *ast.Term {
	if patient != "" && c.Patient != patient {
		return nil
	}
	items := make([][2]*ast.Term, 0, 13)
	items = append(items,
		ast.Item(kId, ast.StringTerm(c.ID)),
		ast.Item(kVersion, ast.StringTerm(c.Version)),
		ast.Item(kStatus, ast.StringTerm(c.Status)),
		ast.Item(kPatient, ast.StringTerm(c.Patient)),
		ast.Item(kPolicies, stringList(c.Policies)),
		ast.Item(kStartNs, int64Term(c.Start)),
		ast.Item(kEndNs, int64Term(c.End)),
		ast.Item(kRootTypeFrom, ast.StringTerm(c.RootTypeFrom)),
	)
	if c.Source != "" {
		items = append(items, ast.Item(kSource, ast.StringTerm(c.Source)))
	}
	if c.DenyOnly {
		items = append(items, ast.Item(kDenyOnly, ast.InternedTerm(true)))
	}
	if c.Unreadable {
		items = append(items, ast.Item(kUnreadable, ast.InternedTerm(true)))
	}
	if c.Rules == nil {
		items = append(items, ast.Item(kRules, ast.InternedNullTerm))
	} else {
		rules := make([]*ast.Term, len(c.Rules))
		for i := range c.Rules {
			rules[i] = c.Rules[i].term(criteria)
		}
		items = append(items, ast.Item(kRules, ast.ArrayTerm(rules...)))
		if index {
			items = append(items, ast.Item(kIndex, ast.NewTerm(consentRuleIndex(c.Rules))))
		}
	}
	return ast.NewTerm(ast.NewObject(items...))
}

func (r *ConsentRule) term(criteria map[string]bool) *ast.Term {
	conds := ast.InternedNullTerm
	if r.Conditions != nil {
		levels := make([]*ast.Term, 0, len(r.Conditions))
		for i := range r.Conditions {
			if t := r.Conditions[i].term(criteria); t != nil {
				levels = append(levels, t)
			}
		}
		conds = ast.NewTerm(ast.NewArray(levels...))
	}
	return ast.NewTerm(ast.NewObject(
		ast.Item(kPath, ast.StringTerm(r.Path)),
		ast.Item(kDepth, int64Term(int64(r.Depth))),
		ast.Item(kType, ast.StringTerm(r.Type)),
		ast.Item(kConditions, conds),
	))
}

// term is the level compacted as compactConditions does: what states
// nothing is left out, data too when data_refs states the references with
// their meaning; nil when nothing is left. The keys it keeps are added to
// criteria.
func (c *ConsentCond) term(criteria map[string]bool) *ast.Term {
	items := make([][2]*ast.Term, 0, 13)
	list := func(k *ast.Term, ss []string) {
		if len(ss) > 0 {
			items = append(items, ast.Item(k, stringList(ss)))
		}
	}
	num := func(k *ast.Term, n int64) {
		if n != 0 {
			items = append(items, ast.Item(k, int64Term(n)))
		}
	}
	list(kActors, c.Actors)
	list(kRoles, c.Roles)
	list(kPurposes, c.Purposes)
	list(kLabels, c.Labels)
	list(kClasses, c.Classes)
	list(kCodes, c.Codes)
	list(kActions, c.Actions)
	num(kStartNs, c.Start)
	num(kEndNs, c.End)
	num(kDataStartNs, c.DataStart)
	num(kDataEndNs, c.DataEnd)
	if len(c.DataRefs) > 0 {
		refs := make([]*ast.Term, len(c.DataRefs))
		for i, d := range c.DataRefs {
			refs[i] = ast.NewTerm(ast.NewObject(
				ast.Item(kReference, ast.StringTerm(d.Reference)),
				ast.Item(kMeaning, ast.StringTerm(d.Meaning)),
			))
		}
		items = append(items, ast.Item(kDataRefs, ast.NewTerm(ast.NewArray(refs...))))
	} else {
		list(kData, c.Data)
	}
	if len(items) == 0 {
		return nil
	}
	for _, it := range items {
		criteria[string(it[0].Value.(ast.String))] = true
	}
	return ast.NewTerm(ast.NewObject(items...))
}

// stringList is a list of strings as JSON gives it: null when nil.
func stringList(ss []string) *ast.Term {
	if ss == nil {
		return ast.InternedNullTerm
	}
	ts := make([]*ast.Term, len(ss))
	for i, s := range ss {
		ts[i] = ast.StringTerm(s)
	}
	return ast.NewTerm(ast.NewArray(ts...))
}

func int64Term(n int64) *ast.Term {
	if n >= 0 && n <= 512 {
		return ast.InternedTerm(int(n))
	}
	return ast.NewTerm(ast.Number(strconv.FormatInt(n, 10)))
}

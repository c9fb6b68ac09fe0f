package labels

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Rule labels every resource that holds a matching Coding: one whose system
// is System and whose code is listed in Codes, starts with one of Prefixes
// or falls in one of Ranges, and is not excluded. A rule of no system and
// no codes, prefixes, ranges or exclusions, with Types, labels every
// resource of those types, whatever it holds (a type rule: a
// MolecularSequence is genetic information by what it is, and holds no
// code that says so).
type Rule struct {
	ID     string // names the rule in reasons and errors
	System string // code system URL of the codings the rule matches

	Codes    []string    // codes matched exactly
	Prefixes []string    // codes matched when they start with one of these
	Ranges   [][2]string // inclusive bounds; the upper one also covers every code it prefixes, so {"F10", "F19"} covers F19.99

	Exclude         []string // codes never matched
	ExcludePrefixes []string // codes never matched when they start with one of these

	Labels []Label  // labels the rule assigns; at most one confidentiality label
	Types  []string // resource types the rule applies to; empty means any

	Topic  string // the sensitivity topic of the rule's file (SUD, MH ...)
	Source string // where the codes come from, as the rule file names it
}

// compiledRule is a validated rule ready for matching.
type compiledRule struct {
	Rule
	labels Set
	// exclude and excludePrefixes are Exclude and ExcludePrefixes as
	// codings are compared (matchKey).
	exclude         map[string]bool
	excludePrefixes [][]byte
}

// excluded reports whether code, as matchKey spells it, is excluded from
// the rule.
func (r *compiledRule) excluded(code []byte) bool {
	if r.exclude[string(code)] {
		return true
	}
	for _, p := range r.excludePrefixes {
		if bytes.HasPrefix(code, p) {
			return true
		}
	}
	return false
}

// typeOnly reports whether r is a type rule: no system, codes, prefixes,
// ranges or exclusions, and types (see Rule).
func (r *Rule) typeOnly() bool {
	return r.System == "" && len(r.Codes)+len(r.Prefixes)+len(r.Ranges)+len(r.Exclude)+len(r.ExcludePrefixes) == 0 && len(r.Types) > 0
}

// typeRules indexes the type rules of rules by the types they label.
func typeRules(rules []compiledRule) map[string][]int {
	var out map[string][]int
	for k := range rules {
		if !rules[k].typeOnly() {
			continue
		}
		if out == nil {
			out = map[string][]int{}
		}
		for _, t := range rules[k].Types {
			if !slices.Contains(out[t], k) {
				out[t] = append(out[t], k)
			}
		}
	}
	return out
}

// appliesTo reports whether the rule applies to resources of type typ.
func (r *compiledRule) appliesTo(typ string) bool {
	return len(r.Types) == 0 || slices.Contains(r.Types, typ)
}

// matcher holds the rules of one code system, indexed for matching.
type matcher struct {
	mode     keyMode // how codes of the system are compared (matchKey)
	exact    map[string][]int
	prefixes []prefixRule
	ranges   []rangeRule
}

type prefixRule struct {
	prefix []byte
	rule   int
}

type rangeRule struct {
	lo, hi []byte
	rule   int
}

// inRange reports whether code lies in [lo, hi], hi covering the codes it
// prefixes.
func (r rangeRule) inRange(code []byte) bool {
	return bytes.Compare(code, r.lo) >= 0 && (bytes.Compare(code, r.hi) <= 0 || bytes.HasPrefix(code, r.hi))
}

// candidates appends to dst the rules whose inclusion criteria match code,
// before exclusions and resource types are checked; a rule may appear twice.
func (m *matcher) candidates(dst []int, code []byte) []int {
	dst = append(dst, m.exact[string(code)]...)
	for _, p := range m.prefixes {
		if bytes.HasPrefix(code, p.prefix) {
			dst = append(dst, p.rule)
		}
	}
	for _, r := range m.ranges {
		if r.inRange(code) {
			dst = append(dst, r.rule)
		}
	}
	return dst
}

// compile validates rules and indexes them by code system. It reports every
// problem at once.
func compile(rules []Rule) ([]compiledRule, map[string]*matcher, error) {
	var errs []error
	seen := map[string]bool{}
	out := make([]compiledRule, 0, len(rules))
	bySystem := map[string]*matcher{}
	for k, r := range rules {
		if err := validateRule(r); err != nil {
			errs = append(errs, fmt.Errorf("labels: rule %d (%q): %w", k, r.ID, err))
			continue
		}
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("labels: rule %d: duplicate id %q", k, r.ID))
			continue
		}
		cr := compiledRule{Rule: r, labels: NewSet(r.Labels...)}
		var err error
		if !r.typeOnly() {
			cr, err = index(bySystem, r, len(out))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("labels: rule %d (%q): %w", k, r.ID, err))
			continue
		}
		seen[r.ID] = true
		out = append(out, cr)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return out, bySystem, nil
}

// index adds the inclusion criteria of rule r, number n, to bySystem and
// returns the compiled rule. Its system and codes are indexed as codings
// are matched (codeSystem, matchKey): a rule written with an OID or with
// dotted ICD-10 codes matches codings in either spelling. A criterion
// that is empty once so spelt ("." or " " under ICD-10-CM) is an error: as
// a prefix it would match every code. Nothing is added on error.
func index(bySystem map[string]*matcher, r Rule, n int) (compiledRule, error) {
	system := string(codeSystem([]byte(r.System)))
	mode := codeMode(system)
	var errs []error
	key := func(what, c string) string {
		k := string(matchKey(nil, []byte(c), mode))
		if k == "" {
			errs = append(errs, fmt.Errorf("%s %q is empty once white space (and, in ICD-10, dots) are removed", what, c))
		}
		return k
	}
	codes := make([]string, len(r.Codes))
	for k, c := range r.Codes {
		codes[k] = key("code", c)
	}
	prefixes := make([][]byte, len(r.Prefixes))
	for k, p := range r.Prefixes {
		prefixes[k] = []byte(key("prefix", p))
	}
	ranges := make([]rangeRule, len(r.Ranges))
	for k, rg := range r.Ranges {
		lo, hi := key("range bound", rg[0]), key("range bound", rg[1])
		if lo > hi {
			errs = append(errs, fmt.Errorf("range [%q, %q] is reversed once spelt as codings are compared (%q > %q)", rg[0], rg[1], lo, hi))
		}
		ranges[k] = rangeRule{lo: []byte(lo), hi: []byte(hi), rule: n}
	}
	var exclude map[string]bool
	if len(r.Exclude) > 0 {
		exclude = make(map[string]bool, len(r.Exclude))
		for _, c := range r.Exclude {
			exclude[key("exclude", c)] = true
		}
	}
	var excludePrefixes [][]byte
	for _, p := range r.ExcludePrefixes {
		excludePrefixes = append(excludePrefixes, []byte(key("exclude prefix", p)))
	}
	if err := errors.Join(errs...); err != nil {
		return compiledRule{}, err
	}
	m := bySystem[system]
	if m == nil {
		m = &matcher{mode: mode, exact: map[string][]int{}}
		bySystem[system] = m
	}
	for _, c := range codes {
		if !slices.Contains(m.exact[c], n) {
			m.exact[c] = append(m.exact[c], n)
		}
	}
	for _, p := range prefixes {
		m.prefixes = append(m.prefixes, prefixRule{prefix: p, rule: n})
	}
	m.ranges = append(m.ranges, ranges...)
	return compiledRule{Rule: r, labels: NewSet(r.Labels...), exclude: exclude, excludePrefixes: excludePrefixes}, nil
}

// matchKey appends to dst code as rules and codings are compared: white
// space around it trimmed and, for ICD-10, ICD-10-CM and ICD-9-CM (keyICD), without
// dots and in upper case, or, for the other known clinical systems
// (keyUpper), in upper case. Without a lower-case letter to fold, or
// with keyExact, it returns the trimmed code itself, a slice of code,
// and leaves dst alone.
func matchKey(dst, code []byte, mode keyMode) []byte {
	code = bytes.TrimSpace(code)
	switch mode {
	case keyICD:
		return icdKey(dst, code)
	case keyUpper:
		return upperKey(dst, code)
	}
	return code
}

// validateRule reports every problem of one rule.
func validateRule(r Rule) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(r.ID) == "" {
		add("empty id")
	}
	switch {
	case r.typeOnly():
		// A type rule: every resource of its types.
	case strings.TrimSpace(r.System) == "" && len(r.Codes)+len(r.Prefixes)+len(r.Ranges) == 0 && len(r.Exclude)+len(r.ExcludePrefixes) > 0:
		add("a rule of no system and no codes labels every resource of its types, and can exclude no code")
	case strings.TrimSpace(r.System) == "" && len(r.Codes)+len(r.Prefixes)+len(r.Ranges) == 0:
		add("empty system, and no codes, prefixes or ranges (a rule of neither labels every resource of its types: name them)")
	default:
		if strings.TrimSpace(r.System) == "" {
			add("empty system")
		}
		if len(r.Codes)+len(r.Prefixes)+len(r.Ranges) == 0 {
			add("no codes, prefixes or ranges")
		}
	}
	lists := []struct {
		name string
		list []string
	}{{"code", r.Codes}, {"prefix", r.Prefixes}, {"exclude", r.Exclude}, {"exclude prefix", r.ExcludePrefixes}, {"type", r.Types}}
	for _, l := range lists {
		if slices.Contains(l.list, "") {
			add("empty %s", l.name)
		}
	}
	for _, rg := range r.Ranges {
		if rg[0] == "" || rg[1] == "" || rg[0] > rg[1] {
			add("bad range [%q, %q]", rg[0], rg[1])
		}
	}
	if err := validateLabels(r.Labels); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateLabels checks the labels a rule assigns.
func validateLabels(ls []Label) error {
	if len(ls) == 0 {
		return errors.New("no labels")
	}
	var errs []error
	conf := 0
	for _, l := range ls {
		l = l.normalized()
		switch {
		case l.System == "" || l.Code == "":
			errs = append(errs, fmt.Errorf("label %q has an empty system or code", l))
		case l.System == SystemConfidentiality && ConfidentialityRank(l.Code) < 0:
			errs = append(errs, fmt.Errorf("label %q is not a confidentiality code (U L M N R V)", l))
		case l.System == SystemConfidentiality:
			conf++
		case vocabulary(l.System) != nil && !KnownCode(l.System, l.Code):
			// A mistyped code would label data with something no consent
			// provision or policy rule names.
			msg := fmt.Sprintf("label %q is not a code of %s that ds4p knows", l, l.System)
			if s := SuggestCode(l.System, l.Code); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	if conf > 1 {
		errs = append(errs, errors.New("more than one confidentiality label"))
	}
	return errors.Join(errs...)
}

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
	ndc             bool // the rule's system is NDC (keyNDC)
}

// excluded reports whether code, as matchKey spells it, is excluded from
// the rule. An NDC of ten digits without hyphens is excluded only when each
// of its three readings (ndcPad) is: which one it is, is unknown, and the
// doubt labels.
func (r *compiledRule) excluded(code []byte) bool {
	if r.ndc && ndcPlain10(code) {
		var pb [11]byte
		for k := range 3 {
			if !r.excludedKey(ndcPad(pb[:0], code, k)) {
				return false
			}
		}
		return true
	}
	return r.excludedKey(code)
}

// excludedKey is excluded for a code of one reading.
func (r *compiledRule) excludedKey(code []byte) bool {
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
// An NDC of ten digits without hyphens is looked up in each of its three
// 11-digit readings (ndcPad).
func (m *matcher) candidates(dst []int, code []byte) []int {
	if m.mode == keyNDC && ndcPlain10(code) {
		var pb [11]byte
		for k := range 3 {
			dst = m.candidatesOf(dst, ndcPad(pb[:0], code, k))
		}
		return dst
	}
	return m.candidatesOf(dst, code)
}

// candidatesOf is candidates for a code of one reading.
func (m *matcher) candidatesOf(dst []int, code []byte) []int {
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
	// An NDC code, exclusion or range bound must be an NDC; one of ten
	// digits without hyphens stands for its three 11-digit readings
	// (ndcPad), a range bound must say which it is.
	codeKeys := func(what, c string) []string {
		k := key(what, c)
		if mode != keyNDC || k == "" {
			return []string{k}
		}
		switch kb := []byte(k); {
		case !ndcShaped(kb):
			errs = append(errs, fmt.Errorf("%s %q is not an NDC: write 10 digits hyphenated 4-4-2, 5-3-2 or 5-4-1, or the 11-digit 5-4-2 form with or without hyphens", what, c))
		case ndcPlain10(kb):
			return []string{string(ndcPad(nil, kb, 0)), string(ndcPad(nil, kb, 1)), string(ndcPad(nil, kb, 2))}
		}
		return []string{k}
	}
	prefixKey := func(what, p string) string {
		if mode != keyNDC {
			return key(what, p)
		}
		k, ok := ndcPrefixKey(strings.TrimSpace(p))
		if !ok {
			errs = append(errs, fmt.Errorf("%s %q is not the start of an NDC: write up to 11 digits of the 5-4-2 form, or a labeler code (4 or 5 digits) and a product code (3 or 4) with their hyphens", what, p))
		}
		return k
	}
	var codes []string
	for _, c := range r.Codes {
		codes = append(codes, codeKeys("code", c)...)
	}
	prefixes := make([][]byte, len(r.Prefixes))
	for k, p := range r.Prefixes {
		prefixes[k] = []byte(prefixKey("prefix", p))
	}
	ranges := make([]rangeRule, len(r.Ranges))
	for k, rg := range r.Ranges {
		lo, hi := key("range bound", rg[0]), key("range bound", rg[1])
		if mode == keyNDC {
			for _, b := range [2]string{rg[0], rg[1]} {
				if kb := matchKey(nil, []byte(b), mode); len(kb) != 11 || !allDigits(kb) {
					errs = append(errs, fmt.Errorf("range bound %q is not an NDC of a known layout: write it hyphenated or in the 11-digit 5-4-2 form", b))
				}
			}
		}
		if lo > hi {
			errs = append(errs, fmt.Errorf("range [%q, %q] is reversed once spelt as codings are compared (%q > %q)", rg[0], rg[1], lo, hi))
		}
		ranges[k] = rangeRule{lo: []byte(lo), hi: []byte(hi), rule: n}
	}
	var exclude map[string]bool
	if len(r.Exclude) > 0 {
		exclude = make(map[string]bool, len(r.Exclude))
		for _, c := range r.Exclude {
			for _, k := range codeKeys("exclude", c) {
				exclude[k] = true
			}
		}
	}
	var excludePrefixes [][]byte
	for _, p := range r.ExcludePrefixes {
		excludePrefixes = append(excludePrefixes, []byte(prefixKey("exclude prefix", p)))
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
	return compiledRule{Rule: r, labels: NewSet(r.Labels...), exclude: exclude, excludePrefixes: excludePrefixes, ndc: mode == keyNDC}, nil
}

// matchKey appends to dst code as rules and codings are compared: white
// space around it trimmed and, for ICD-10, ICD-10-CM and ICD-9-CM (keyICD), without
// dots and in upper case, for NDC (keyNDC) in the 11-digit form without
// hyphens (ndcKey: ten digits without hyphens are left as they are, and
// read three ways), or, for the other known clinical systems (keyUpper),
// in upper case. Without a lower-case letter to fold or a hyphen to drop,
// or with keyExact, it returns the trimmed code itself, a slice of code,
// and leaves dst alone.
func matchKey(dst, code []byte, mode keyMode) []byte {
	code = bytes.TrimSpace(code)
	switch mode {
	case keyICD:
		return icdKey(dst, code)
	case keyUpper:
		return upperKey(dst, code)
	case keyNDC:
		return ndcKey(dst, code)
	}
	return code
}

// ndcPrefixKey returns the NDC prefix p as an 11-digit key starts: up to
// 11 digits are taken as they are; a labeler code of 4 or 5 digits, with a
// hyphen after it or a product code of 3 or 4 digits (and maybe a hyphen)
// after that, is padded as ndcKey pads its segments.
func ndcPrefixKey(p string) (string, bool) {
	if !strings.Contains(p, "-") {
		return p, p != "" && len(p) <= 11 && allDigits([]byte(p))
	}
	segs := strings.Split(strings.TrimSuffix(p, "-"), "-")
	if len(segs) > 2 {
		return "", false
	}
	var out []byte
	for k, s := range segs {
		if len(s) < ndcWidths[k]-1 || len(s) > ndcWidths[k] || !allDigits([]byte(s)) {
			return "", false
		}
		if len(s) < ndcWidths[k] {
			out = append(out, '0')
		}
		out = append(out, s...)
	}
	return string(out), true
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

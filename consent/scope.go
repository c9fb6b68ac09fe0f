package consent

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxScopeChars bounds Scope's text against a pathological consent (one
// that names thousands of actors or codes); a recipient's explanation is
// normally a few hundred characters. The notice header cuts the whole
// notice much shorter (proxy/notices.go); the searchset's outcome entry
// carries this text whole.
const maxScopeChars = 16 << 10

// scopeCut ends a text cut at maxScopeChars.
const scopeCut = " ... (cut; the consent's terms are available from the disclosing program)"

// ScopeFor explains in plain language what the consent permits the
// recipient, for the explanation of the consent's scope that 42 CFR
// 2.32(b) (2024 rule) asks to accompany each disclosure made with the
// patient's written consent: the consent's reference and version, the
// period it is in force, and each permitting provision that can apply to
// the recipient with what it names (recipients, purposes, labels, classes,
// codes, actions, records, periods).
//
// recipients are the forms the recipient is known by: its organisation's
// reference ("Organization/o1"), the organisation's identifiers
// ("system|value") and the caller's subject. A permit provision applies when
// at every level of it that names actors one of them is a recipient; one
// that names none applies to anyone. Provisions for other recipients are
// left out (they tell this recipient what others may see, e.g. that an
// HIV clinic gets the patient's HIV records), and so are deny provisions
// (what the patient keeps from others): a described permit with a deny
// nested under it only says that it has exceptions, not what they name;
// so does one beside it whose purposes meet the permit's in purposes, the
// purpose-of-use hierarchy the policy uses (config.purpose_hierarchy).
// When no permit provision names the recipient (it was admitted through a
// designation only the policy knows, e.g. membership of an HIE), the text
// says so without detail.
//
// The text is UTF-8 without control characters, at most maxScopeChars
// bytes long (cut with scopeCut).
func (n *Normalized) ScopeFor(recipients []string, purposes PurposeHierarchy) string {
	var b strings.Builder
	b.WriteString("Consent/")
	b.WriteString(strings.TrimPrefix(n.ID, "upstream:"))
	b.WriteString(" version ")
	b.WriteString(n.Version)
	if len(n.Policies) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(n.Policies, ", "))
		b.WriteString(")")
	}
	start, end := n.writtenPeriod()
	if p := inForce(start, end); p != "" {
		b.WriteString(", in force ")
		b.WriteString(p)
	}
	permits, described := 0, 0
	for _, r := range n.Rules {
		if r.Type != "permit" {
			continue
		}
		permits++
		if !appliesTo(r, recipients) {
			continue
		}
		if described == 0 {
			b.WriteString("; it permits disclosure")
		} else {
			b.WriteString("; and")
		}
		described++
		what := describeRule(r, start, end, recipients)
		if what == "" {
			what = " of all the patient's records to anyone"
		}
		b.WriteString(what)
		if hasExceptions(n.Rules, r, recipients, purposes) {
			b.WriteString(", with exceptions the patient set")
		}
	}
	switch {
	case permits == 0:
		b.WriteString("; it permits nothing")
	case described == 0:
		b.WriteString("; it permits this disclosure to the recipient through a general designation of recipients;" +
			" the consent's terms are available from the disclosing program")
	}
	b.WriteString(".")
	return clip(noControl(b.String()), maxScopeChars)
}

// appliesTo reports whether permit rule r can apply to a recipient known by
// recipients: at every level of r that names actors, one of them is a
// recipient.
func appliesTo(r Rule, recipients []string) bool {
	for _, c := range r.Conditions {
		if len(c.Actors) == 0 {
			continue
		}
		if !slices.ContainsFunc(c.Actors, func(a string) bool {
			return a != "" && slices.Contains(recipients, a)
		}) {
			return false
		}
	}
	return true
}

// hasExceptions reports whether a deny provision may withhold from the
// recipient part of what permit r allows: one nested under r, or any other
// deny that can apply to the recipient (appliesTo) and is not one of r's
// ancestors (the base a permit is an exception to). A deny of another
// branch wins over r for what both match, at any depth (each branch
// decides for itself, and a deny wins), when their purposes meet in h.
func hasExceptions(rules []Rule, r Rule, recipients []string, h PurposeHierarchy) bool {
	for _, d := range rules {
		if d.Type != "deny" {
			continue
		}
		if d.Depth > r.Depth && strings.HasPrefix(d.Path, r.Path+".") {
			return true
		}
		ancestor := d.Depth < r.Depth && strings.HasPrefix(r.Path, d.Path+".")
		if !ancestor && d.Path != r.Path && appliesTo(d, recipients) && purposesMeet(d, r, h) {
			return true
		}
	}
	return false
}

// purposesMeet reports whether a request could match both a and b by its
// purpose: one of them names no purpose, or one names a purpose the other
// names or one broader or narrower than it in h. The policy applies a deny
// to a caller stating a purpose it names or one narrower (a deny of HPAYMT
// withholds from a caller stating COVERAGE, beside a permit of COVERAGE);
// the other direction (a deny of COVERAGE beside a permit of HPAYMT) counts
// too, the reading that never overstates what the recipient may receive.
func purposesMeet(a, b Rule, h PurposeHierarchy) bool {
	pa, pb := rulePurposes(a), rulePurposes(b)
	if len(pa) == 0 || len(pb) == 0 {
		return true
	}
	for _, p := range pa {
		if slices.ContainsFunc(pb, func(q string) bool { return h.related(p, q) }) {
			return true
		}
	}
	return false
}

// PurposeHierarchy is the purpose-of-use hierarchy the policy reads
// (config.purpose_hierarchy of the policy data, v3-ActReason): each
// purpose with its direct narrower purposes, e.g. HPAYMT with COVERAGE,
// COVERAGE with ELIGVER. nil knows no hierarchy: purposes meet by code.
type PurposeHierarchy map[string][]string

// related reports whether purposes a and b are the same, or one is
// narrower than the other at any depth.
func (h PurposeHierarchy) related(a, b string) bool {
	return a == b || h.narrower(a, b) || h.narrower(b, a)
}

// narrower reports whether n is narrower than p at any depth (the
// hierarchy may be a graph: CAREMGT sits under TREAT and HOPERAT, and
// policy data may hold a cycle).
func (h PurposeHierarchy) narrower(p, n string) bool {
	if len(h) == 0 {
		return false
	}
	seen := map[string]bool{p: true}
	next := []string{p}
	for len(next) > 0 {
		x := next[len(next)-1]
		next = next[:len(next)-1]
		for _, c := range h[x] {
			if c == n {
				return true
			}
			if !seen[c] {
				seen[c] = true
				next = append(next, c)
			}
		}
	}
	return false
}

// rulePurposes are the purposes the levels of r name.
func rulePurposes(r Rule) []string {
	var out []string
	for _, c := range r.Conditions {
		out = append(out, c.Purposes...)
	}
	return out
}

// describeRule joins what every level of r names, root first; a level's
// period is left out when it is the consent's own (start, end). Of the
// actors only the recipient's own forms are named: the others a provision
// lists beside it are other recipients, no part of this disclosure.
func describeRule(r Rule, start, end int64, recipients []string) string {
	var to, purposes, labels, classes, codes, actions, data []string
	var periods, dataPeriods []string
	for _, c := range r.Conditions {
		c = c.written()
		for _, a := range c.Actors {
			if a != "" && slices.Contains(recipients, a) {
				to = append(to, a)
			}
		}
		purposes = append(purposes, c.Purposes...)
		for _, l := range c.Labels {
			labels = append(labels, codeOf(l))
		}
		classes = append(classes, c.Classes...)
		codes = append(codes, c.Codes...)
		actions = append(actions, c.Actions...)
		data = append(data, c.Data...)
		if p := inForce(c.Start, c.End); p != "" && (c.Start != start || c.End != end) {
			periods = append(periods, p)
		}
		if p := inForce(c.DataStart, c.DataEnd); p != "" {
			dataPeriods = append(dataPeriods, p)
		}
	}
	var b strings.Builder
	list := func(prefix string, xs []string) {
		if len(xs) > 0 {
			b.WriteString(prefix)
			b.WriteString(strings.Join(dedupe(xs), ", "))
		}
	}
	list(" of records labelled ", labels)
	list(" of the resource types or classes ", classes)
	list(" with the codes ", codes)
	list(" of the records ", data)
	list(" dated ", dataPeriods)
	list(" to ", to)
	list(" for the purposes ", purposes)
	list(" for the actions ", actions)
	if len(periods) > 0 {
		b.WriteString(", in force ")
		b.WriteString(strings.Join(dedupe(periods), " and "))
	}
	return b.String()
}

// writtenPeriod is the consent's period as written (Cond.written), not
// the widest reading Start and End hold.
func (n *Normalized) writtenPeriod() (start, end int64) {
	if len(n.Rules) == 0 || len(n.Rules[0].Conditions) == 0 || n.Rules[0].Depth != 0 {
		return n.Start, n.End
	}
	root := n.Rules[0].Conditions[0].written()
	return root.Start, root.End
}

// inForce renders [start, end) in unix ns as dates, in the date zone when
// one is set (SetDateZone); "" when unbounded. End is exclusive, so the
// last day in force is the day before it.
func inForce(start, end int64) string {
	loc := cmpOr(dateZone.Load(), time.UTC)
	day := func(ns int64) string { return time.Unix(0, ns).In(loc).Format(time.DateOnly) }
	switch {
	case start == 0 && end == 0:
		return ""
	case end == 0:
		return "from " + day(start)
	case start == 0:
		return "until " + day(end-1)
	default:
		return "from " + day(start) + " until " + day(end-1)
	}
}

// codeOf is the code of a "system|code" label.
func codeOf(s string) string {
	if i := strings.LastIndexByte(s, '|'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// noControl drops control characters (CR, LF, ...): the text may end up
// in a header.
func noControl(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// clip cuts s to at most n bytes, at a rune boundary, ending with scopeCut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len(scopeCut)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + scopeCut
}

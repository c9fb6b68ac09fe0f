package consent

import (
	"strings"
	"time"
)

// maxScopeChars bounds Scope's text: it travels in a response header.
const maxScopeChars = 1500

// Scope explains in plain language what the consent permits, for the
// explanation of the consent's scope that 42 CFR 2.32(b) (2024 rule) asks
// to accompany each disclosure made with the patient's written consent:
// the consent's reference and version, the period it is in force, and each
// permitting provision with what it names (recipients, purposes, labels,
// classes, codes, actions, records, periods). Deny provisions are left out:
// they tell a recipient what the patient keeps from others, which is no
// part of what was disclosed to it. The text is ASCII and at most
// maxScopeChars long (cut with "...").
func (n *Normalized) Scope() string {
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
	if p := inForce(n.Start, n.End); p != "" {
		b.WriteString(", in force ")
		b.WriteString(p)
	}
	permits := 0
	for _, r := range n.Rules {
		if r.Type != "permit" {
			continue
		}
		if permits == 0 {
			b.WriteString("; it permits disclosure")
		} else {
			b.WriteString("; and")
		}
		permits++
		what := describeRule(r, n.Start, n.End)
		if what == "" {
			what = " of all the patient's records to anyone"
		}
		b.WriteString(what)
	}
	if permits == 0 {
		b.WriteString("; it permits nothing")
	}
	b.WriteString(".")
	return clip(ascii(b.String()), maxScopeChars)
}

// describeRule joins what every level of r names, root first; a level's
// period is left out when it is the consent's own (start, end).
func describeRule(r Rule, start, end int64) string {
	var to, purposes, labels, classes, codes, actions, data []string
	var periods, dataPeriods []string
	for _, c := range r.Conditions {
		to = append(to, c.Actors...)
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

// inForce renders [start, end) in unix ns as dates; "" when unbounded. End
// is exclusive, so the last day in force is the day before it.
func inForce(start, end int64) string {
	day := func(ns int64) string { return time.Unix(0, ns).UTC().Format(time.DateOnly) }
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

// ascii keeps printable ASCII: the text goes into a header.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

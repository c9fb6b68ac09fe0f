package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ds4p/ds4p/labels"
)

// dataLabelProblems checks the security labels the policy data names
// (data.ds4p.config: part2, counseling_notes, state_law and consents'
// confidentiality order, obligations) against the label vocabulary.
//
// The proxy hands the policy every item's labels as the labeller writes
// them: the label system's terminology.hl7.org URL and a code of that
// system, in its case (labels.CodeSystem and labelCode normalise whatever
// the FHIR server wrote). A label in the policy data spelt otherwise (the
// legacy hl7.org/fhir/v3 URL, an OID, "r" for R, "42CFRpart2") equals no
// item's label, and the schema, which reads only "system|code", took it:
// a restricted_confidentiality.labels entry "...v3-Confidentiality|r"
// made every item labelled R ordinary data, disclosed for payment, and a
// part2.labels entry so spelt let a Part 2 record out without its
// consent (QA round 27). A label of another system (a site's own) is not
// checked: the labeller writes such labels as its rules name them.
func dataLabelProblems(config any) []string {
	cfg, ok := config.(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	check := func(field, l string) {
		if p := dataLabelProblem(l); p != "" {
			out = append(out, fmt.Sprintf("%s: %q %s", field, l, p))
		}
	}
	list := func(field string, v any) {
		arr, _ := v.([]any)
		for i, x := range arr {
			if s, ok := x.(string); ok {
				check(fmt.Sprintf("%s[%d]", field, i), s)
			}
		}
	}
	obj := func(m map[string]any, k string) map[string]any {
		o, _ := m[k].(map[string]any)
		return o
	}
	out = append(out, dataPurposeProblems(cfg)...)
	if c := obj(cfg, "consents"); c != nil {
		list("consents.confidentiality_order", c["confidentiality_order"])
		out = append(out, consentCodeProblems(c)...)
	}
	if p := obj(cfg, "part2"); p != nil {
		list("part2.labels", p["labels"])
		list("part2.obligations", p["obligations"])
	}
	if n := obj(cfg, "counseling_notes"); n != nil {
		list("counseling_notes.labels", n["labels"])
	}
	sl := obj(cfg, "state_law")
	if sl == nil {
		return out
	}
	if m := obj(sl, "labels"); m != nil {
		for _, k := range sortedKeys(m) {
			check("state_law.labels", k)
		}
	}
	for _, k := range []string{"other_sensitive", "restricted_confidentiality", "no_redisclosure"} {
		if o := obj(sl, k); o != nil {
			list("state_law."+k+".labels", o["labels"])
		}
	}
	topics := obj(sl, "topics")
	for _, k := range sortedKeys(topics) {
		if t, ok := topics[k].(map[string]any); ok {
			list(fmt.Sprintf("state_law.topics.%s.obligations", k), t["obligations"])
		}
	}
	return out
}

// dataLabelProblem says what is wrong with one "system|code" label of the
// policy data, "" when it is written as the labeller writes it or names a
// system outside the label vocabulary.
func dataLabelProblem(l string) string {
	system, code, ok := strings.Cut(l, "|")
	if !ok {
		return "" // the schema's pattern reports it
	}
	canon := labels.NormalizeSystem(system)
	if !labelSystem(canon) {
		return ""
	}
	if canon != system {
		return fmt.Sprintf("names its system otherwise than items' labels do, so it matches none; write %q", canon+"|"+code)
	}
	if labels.KnownCode(system, code) || knownElsewhere(code) {
		// A code of another label system (v3-ObservationValue|HIV) is
		// read as that system's label; the shipped table lists such
		// spellings beside the right one, and they widen nothing.
		return ""
	}
	msg := "is no code of its system, so it matches no item's label"
	if s := labels.SuggestCode(system, code); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", system+"|"+s)
	}
	return msg
}

// labelSystem reports whether system is one of the label systems whose
// codes ds4p knows.
func labelSystem(system string) bool {
	switch system {
	case labels.SystemConfidentiality, labels.SystemActCode, labels.SystemObservationValue, labels.SystemActReason:
		return true
	}
	return false
}

// dataPurposeProblems names the purposes of use in the policy data that
// are no v3-PurposeOfUse code but one letter from exactly one
// (labels.SuggestCode): a misspelling, not a site's own purpose. In
// purpose_hierarchy a misspelt purpose cut its narrower purposes off the
// purpose it was meant for, so a patient's deny of HPAYMT no longer
// withheld from a caller stating COVERAGE when HPAYMT listed "COVERGAE"
// (QA round 27); elsewhere it withholds what the analyst meant to
// disclose. A site's own purpose one letter from no v3 code is taken as
// it is (README: list it under its broader one).
func dataPurposeProblems(cfg map[string]any) []string {
	var out []string
	check := func(field string, v any) {
		p, ok := v.(string)
		if !ok || labels.KnownPurpose(p) {
			return
		}
		if s := labels.SuggestCode(labels.SystemActReason, p); s != "" && s != p {
			out = append(out, fmt.Sprintf("%s: %q is no v3-PurposeOfUse code; did you mean %q? (a site's own purpose must not be one letter from a v3 code)", field, p, s))
		}
	}
	list := func(field string, v any) {
		arr, _ := v.([]any)
		for i, x := range arr {
			check(fmt.Sprintf("%s[%d]", field, i), x)
		}
	}
	list("known_purposes", cfg["known_purposes"])
	if h, ok := cfg["purpose_hierarchy"].(map[string]any); ok {
		for _, k := range sortedKeys(h) {
			check("purpose_hierarchy key", k)
			list(fmt.Sprintf("purpose_hierarchy.%s", k), h[k])
		}
	}
	for _, f := range []string{"ordinary", "patient_access"} {
		if o, ok := cfg[f].(map[string]any); ok {
			list(f+".purposes", o["purposes"])
		}
	}
	if b, ok := cfg["break_glass"].(map[string]any); ok {
		check("break_glass.purpose", b["purpose"])
		list("break_glass.allowed_purposes", b["allowed_purposes"])
	}
	if sl, ok := cfg["state_law"].(map[string]any); ok {
		topics, _ := sl["topics"].(map[string]any)
		for _, k := range sortedKeys(topics) {
			if t, ok := topics[k].(map[string]any); ok {
				list(fmt.Sprintf("state_law.topics.%s.without_consent", k), t["without_consent"])
			}
		}
	}
	return out
}

// consentActions is the R4 consent-action value set, the codes a
// consent's provision.action is held to where it is written or synced.
var consentActions = map[string]bool{"collect": true, "access": true, "use": true, "disclose": true, "correct": true}

// consentCodeProblems names the entries of config.consents that no
// consent can carry: a disclosure action outside the consent-action value
// set, and a general policy written as a code (no ':' or '/': a policy
// URI is a site's own) that is no v3-ActCode code. A consent's actions and
// policyRule codes are held to those vocabularies, so such an entry
// matched nothing: with disclosure_actions ["acess", ...] a patient's deny
// of access applied to no request, and with general_policies ["OPTIN",
// "OPTUOT"] an opt-out no longer governed the patient's ordinary records
// (QA round 27).
func consentCodeProblems(c map[string]any) []string {
	var out []string
	actions, _ := c["disclosure_actions"].([]any)
	for i, x := range actions {
		if a, ok := x.(string); ok && !consentActions[a] {
			out = append(out, fmt.Sprintf("consents.disclosure_actions[%d]: %q is no consent-action code (access, collect, correct, disclose, use), so no consent's action matches it", i, a))
		}
	}
	policies, _ := c["general_policies"].([]any)
	for i, x := range policies {
		p, ok := x.(string)
		if !ok || strings.ContainsAny(p, ":/") || labels.KnownCode(labels.SystemActCode, p) {
			continue
		}
		msg := fmt.Sprintf("consents.general_policies[%d]: %q is no v3-ActCode consent policy code, so no consent's policyRule matches it", i, p)
		if s := labels.SuggestCode(labels.SystemActCode, p); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		out = append(out, msg)
	}
	return out
}

// knownElsewhere reports whether code is a known code of any label system.
func knownElsewhere(code string) bool {
	for _, s := range []string{labels.SystemConfidentiality, labels.SystemActCode, labels.SystemObservationValue, labels.SystemActReason} {
		if labels.KnownCode(s, code) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

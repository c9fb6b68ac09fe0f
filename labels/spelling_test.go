package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// condition is a Condition coded system|code.
func condition(system, code string) string {
	return `{"resourceType":"Condition","id":"c","code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
}

// firedRules returns the IDs of the rules whose reasons r holds.
func firedRules(r labels.Result) map[string]bool {
	m := map[string]bool{}
	for _, rs := range r.Reasons {
		m[rs.Rule] = true
	}
	return m
}

// icdSpellings returns code with and without its dot (after the third
// character), lower-cased too.
func icdSpellings(code string) []string {
	plain := strings.ReplaceAll(code, ".", "")
	out := []string{plain, strings.ToLower(plain)}
	if len(plain) > 3 {
		dotted := plain[:3] + "." + plain[3:]
		out = append(out, dotted, strings.ToLower(dotted))
	}
	return out
}

// excludedICD reports whether rule excludes the ICD code c.
func excludedICD(rule labels.Rule, c string) bool {
	c = strings.ReplaceAll(c, ".", "")
	for _, e := range rule.Exclude {
		if strings.ReplaceAll(e, ".", "") == c {
			return true
		}
	}
	for _, e := range rule.ExcludePrefixes {
		if strings.HasPrefix(c, strings.ReplaceAll(e, ".", "")) {
			return true
		}
	}
	return false
}

// Every ICD-10 and ICD-10-CM code prefix and range bound of the shipped rule files
// matches its rule with and without its dot, in either case (QA round 18:
// B9735, O98711, Z91410, Z62810, N926, Z332, F331 matched nothing).
func TestShippedICDCodesEitherSpelling(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	n := 0
	for _, rule := range labels.DefaultRules() {
		if rule.System != labels.SystemICD10CM && rule.System != labels.SystemICD10 {
			continue
		}
		typ := "Condition"
		if len(rule.Types) > 0 {
			typ = rule.Types[0]
		}
		codes := append(append([]string{}, rule.Codes...), rule.Prefixes...)
		for _, rg := range rule.Ranges {
			codes = append(codes, rg[0], rg[1])
		}
		for _, c := range codes {
			if excludedICD(rule, c) {
				continue
			}
			for _, s := range icdSpellings(c) {
				res := `{"resourceType":"` + typ + `","id":"x","code":{"coding":[{"system":"` + rule.System + `","code":"` + s + `"}]}}`
				r, err := l.Label([]byte(res))
				if err != nil {
					t.Fatal(err)
				}
				n++
				if !firedRules(r)[rule.ID] {
					t.Errorf("rule %s, code %s spelt %q: rule did not fire (labels %v)", rule.ID, c, s, r.Labels)
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d spellings tried; the shipped ICD rules were not found", n)
	}
	for _, c := range []string{"B9735", "O98711", "Z91410", "Z62810", "N926", "Z332", "F331"} {
		r, err := l.Label([]byte(condition(labels.SystemICD10CM, c)))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Labels) == 0 {
			t.Errorf("ICD-10-CM %s (no dot) is not labelled", c)
		}
	}
}

// A rule written with dots, without them, in lower case, with an OID or
// white space matches codings spelt any of those ways; exclusions are
// compared the same way.
func TestRuleSpellingsCompiled(t *testing.T) {
	t.Parallel()
	x := []labels.Label{{System: labels.SystemActCode, Code: "SUD"}}
	l, err := labels.New(
		labels.Rule{ID: "dotted", System: labels.SystemICD10CM, Codes: []string{"z91.410"}, Labels: x},
		labels.Rule{ID: "dotless", System: " " + labels.OIDICD10CM, Prefixes: []string{"F1120 "}, Exclude: []string{"f11.209"}, Labels: x},
		labels.Rule{ID: "range", System: labels.SystemICD10CM + "/", Ranges: [][2]string{{"K70.0", "k70.9"}}, ExcludePrefixes: []string{"K70.4"}, Labels: x},
		labels.Rule{ID: "snomed", System: labels.OIDSNOMED, Codes: []string{" 5602001"}, Labels: x},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		system, code, rule string
		want               bool
	}{
		{labels.SystemICD10CM, "Z91.410", "dotted", true},
		{labels.SystemICD10CM, "Z91410", "dotted", true},
		{labels.SystemICD10CM, "F11.20", "dotless", true},
		{labels.SystemICD10CM, "F11.208", "dotless", true},
		{labels.SystemICD10CM, "F11.209", "dotless", false},
		{labels.SystemICD10CM, "F11209", "dotless", false},
		{labels.SystemICD10CM, "K70.30", "range", true},
		{labels.SystemICD10CM, "K7030", "range", true},
		{labels.SystemICD10CM, "K70.41", "range", false},
		{labels.SystemICD10CM, "K7041", "range", false},
		{labels.SystemSNOMED, "5602001", "snomed", true},
	} {
		r, err := l.Label([]byte(condition(c.system, c.code)))
		if err != nil {
			t.Fatal(err)
		}
		if got := firedRules(r)[c.rule]; got != c.want {
			t.Errorf("%s|%s: rule %s fired %v, want %v", c.system, c.code, c.rule, got, c.want)
		}
	}
	// A criterion that is empty once spelt as codings are compared would
	// match every code as a prefix: refused.
	for _, r := range []labels.Rule{
		{ID: "dot", System: labels.SystemICD10CM, Prefixes: []string{"."}, Labels: x},
		{ID: "space", System: labels.SystemSNOMED, Prefixes: []string{" "}, Labels: x},
	} {
		if _, err := labels.New(r); err == nil {
			t.Errorf("rule %s with prefix %q compiled", r.ID, r.Prefixes[0])
		}
	}
}

// Codings spelt with a system OID, https or a trailing slash, white space
// around system or code, or a lower-case ICD code match the shipped rules
// (QA round 18).
func TestCodingSpellingsMatch(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	for _, c := range [][2]string{
		{"urn:oid:2.16.840.1.113883.6.90", "F11.20"},
		{"urn:oid:2.16.840.1.113883.6.3", "F11.2"},
		{"urn:oid:2.16.840.1.113883.6.96", "5602001"},
		{"urn:oid:2.16.840.1.113883.6.88", "1819"},
		{"http://hl7.org/fhir/sid/icd-10-cm/", "F11.20"},
		{"https://hl7.org/fhir/sid/icd-10-cm", "F11.20"},
		{"http://hl7.org/fhir/sid/icd-10-cm ", "F11.20"},
		{" http://hl7.org/fhir/sid/icd-10-cm", "F11.20"},
		{"https://snomed.info/sct", "5602001"},
		{"http://snomed.info/sct/", "5602001"},
		{"http://www.nlm.nih.gov/research/umls/rxnorm/", "1819"},
		{"https://www.nlm.nih.gov/research/umls/rxnorm", "1819"},
		{"http://hl7.org/fhir/sid/icd-10-cm", "f11.20"},
		{"http://hl7.org/fhir/sid/icd-10-cm", " F11.20"},
		{"http://hl7.org/fhir/sid/icd-10-cm", "F11.20 "},
		{"http://hl7.org/fhir/sid/icd-10-cm", "\tf1120\n"},
		{"http://snomed.info/sct", "5602001 "},
	} {
		r, err := l.Label([]byte(condition(c[0], strings.NewReplacer("\t", `\t`, "\n", `\n`).Replace(c[1]))))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Labels.Has(labels.SUD) {
			t.Errorf("%q|%q: labels %v, want SUD", c[0], c[1], r.Labels)
		}
	}
	// LOINC by OID: a shipped LOINC code matches as by URL.
	var loinc string
	for _, rule := range labels.DefaultRules() {
		if rule.System == labels.SystemLOINC && len(rule.Codes) > 0 && len(rule.Types) == 0 {
			loinc = rule.Codes[0]
			break
		}
	}
	if loinc != "" {
		want, _ := l.Label([]byte(condition(labels.SystemLOINC, loinc)))
		got, _ := l.Label([]byte(condition(labels.OIDLOINC, loinc)))
		if len(want.Labels) == 0 || !want.Labels.Equal(got.Labels) {
			t.Errorf("LOINC %s: by URL %v, by OID %v", loinc, want.Labels, got.Labels)
		}
	}
	// Another system is not mistaken for one of these.
	for _, sys := range []string{"http://hl7.org/fhir/sid/icd-10-cm-x", "urn:oid:2.16.840.1.113883.6.900", "http://example.org/hl7.org/fhir/sid/icd-10-cm"} {
		if r, _ := l.Label([]byte(condition(sys, "F11.20"))); len(r.Labels) != 0 {
			t.Errorf("system %q matched the ICD-10-CM rules: %v", sys, r.Labels)
		}
	}
}

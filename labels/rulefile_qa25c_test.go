package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestRuleFileDeadCodesRefusedQA25C: a rule file edit that loads but
// labels less than it lists is refused at load, with the line and a hint:
// a code of a known clinical system with a display pasted in it (SNOMED
// browsers copy "5602001 |Opioid abuse|"), and a code, prefix or range
// the rule's own exclusions cover whole. Loaded, each left the codes it
// names unlabelled with no word in the log.
func TestRuleFileDeadCodesRefusedQA25C(t *testing.T) {
	t.Parallel()
	head := "topic: SUD\nsources: [x]\nrules:\n  - id: sud\n"
	for _, c := range []struct{ name, body, want string }{
		{"SNOMED display", "    system: http://snomed.info/sct\n    codes: [\"5602001 |Opioid abuse|\"]\n    labels: [SUD, R]\n",
			`sud.yaml:4: rule "sud": code "5602001 |Opioid abuse|" holds white space or "|": no code of http://snomed.info/sct does, so it would match nothing (did you mean "5602001"?)`},
		{"ICD display", "    system: http://hl7.org/fhir/sid/icd-10-cm\n    prefixes: [\"F11\tOpioid related disorders\"]\n    labels: [SUD, R]\n",
			`prefix "F11\tOpioid related disorders" holds white space`},
		{"LOINC range bound", "    system: urn:oid:2.16.840.1.113883.6.1\n    ranges: [[\"44249-1\", \"44261-6 PHQ\"]]\n    labels: [MH]\n",
			`range bound "44261-6 PHQ" holds white space`},
		{"code excluded", "    system: http://hl7.org/fhir/sid/icd-10-cm\n    codes: [F11.20, F11.21]\n    exclude: [f1121]\n    labels: [SUD, R]\n",
			`code "F11.21" is also in exclude: it would match nothing`},
		{"code excluded by prefix", "    system: http://hl7.org/fhir/sid/icd-10-cm\n    codes: [F11.20]\n    exclude_prefixes: [F11.2]\n    labels: [SUD, R]\n",
			`code "F11.20" is excluded by exclude prefix "F11.2"`},
		{"prefix excluded", "    system: http://hl7.org/fhir/sid/icd-10-cm\n    prefixes: [F11, F12]\n    exclude_prefixes: [F1]\n    labels: [SUD, R]\n",
			`prefix "F11" is excluded whole by exclude prefix "F1"`},
		{"range excluded", "    system: http://hl7.org/fhir/sid/icd-10-cm\n    ranges: [[F11.0, F11.99]]\n    exclude_prefixes: [F11]\n    labels: [SUD, R]\n",
			`range ["F11.0", "F11.99"] is excluded whole by exclude prefix "F11"`},
	} {
		dir := t.TempDir()
		writeRules(t, dir, "sud.yaml", head+c.body)
		rf, err := labels.ReadRulesDir(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (rules %v); want refused: %s", c.name, err, rf.Rules, c.want)
		}
	}
	// What still loads: a local system's codes as written, a partial
	// exclusion, a range whose exclusion covers part of it.
	for _, body := range []string{
		"    system: http://riverside.example/codes\n    codes: [\"opioid use disorder\"]\n    labels: [SUD, R]\n",
		"    system: http://hl7.org/fhir/sid/icd-10-cm\n    prefixes: [F1]\n    exclude_prefixes: [F17]\n    exclude: [F10.10]\n    labels: [SUD, R]\n",
		"    system: http://hl7.org/fhir/sid/icd-10-cm\n    ranges: [[F10, F19]]\n    exclude_prefixes: [F17]\n    labels: [SUD, R]\n",
	} {
		dir := t.TempDir()
		writeRules(t, dir, "sud.yaml", head+body)
		if _, err := labels.ReadRulesDir(dir); err != nil {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// TestRuleFileExtensionCaseQA25C: a rule file saved as "gdis.YAML" or
// "sdv.Yml" is loaded (and watched) as "gdis.yaml" is: it was skipped
// without a word, and its topic labelled nothing.
func TestRuleFileExtensionCaseQA25C(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRules(t, dir, "sud.yaml", "topic: SUD\nsources: [x]\nrules:\n  - id: sud\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    ranges: [[F10, F19]]\n    labels: [SUD, R]\n")
	writeRules(t, dir, "gdis.YAML", "topic: GDIS\nsources: [x]\nrules:\n  - id: gdis\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    codes: [F64.0]\n    labels: [GDIS, R]\n")
	writeRules(t, dir, "hiv.Yml", "topic: HIV\nsources: [x]\nrules:\n  - id: hiv\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    codes: [B20]\n    labels: [HIV, R]\n")
	writeRules(t, dir, "notes.txt", "not a rule file")
	rf, err := labels.ReadRulesDir(dir)
	if err != nil || len(rf.Rules) != 3 || strings.Join(rf.Topics, ",") != "GDIS,HIV,SUD" {
		t.Fatalf("rules %v, topics %v, %v; want all three files", rf.Rules, rf.Topics, err)
	}
}

// TestRuleLabelsRestrictNothingWarnsQA25C: a rule whose labels restrict
// nothing (only N, only an obligation or refrain, only a purpose of use)
// loads with a warning naming its line, as a misspelt system does: what
// it matches stays ordinary data, which an analyst who wrote [N] for [R]
// or dropped the topic code did not mean. A sensitivity code alone, R or
// V alone, or an organisation's own label loads without one.
func TestRuleLabelsRestrictNothingWarnsQA25C(t *testing.T) {
	t.Parallel()
	head := "topic: SUD\nsources: [x]\nrules:\n  - id: sud\n    system: http://hl7.org/fhir/sid/icd-10-cm\n    codes: [F11.20]\n"
	for labelsLine, warn := range map[string]bool{
		"[N]":         true,
		"[NORDSCLCD]": true,
		"[REDACT, L]": true,
		`["http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT"]`: true,
		"[ETHUD]":                     false,
		"[R]":                         false,
		"[V]":                         false,
		"[42CFRPart2]":                false,
		`["http://example.org|X"]`:    false,
		`["http://example.org|X", N]`: false,
	} {
		dir := t.TempDir()
		writeRules(t, dir, "sud.yaml", head+"    labels: "+labelsLine+"\n")
		rf, err := labels.ReadRulesDir(dir)
		if err != nil {
			t.Fatalf("%s: %v", labelsLine, err)
		}
		got := len(rf.Warnings) == 1 && strings.HasPrefix(rf.Warnings[0], `sud.yaml:4: rule "sud": labels `) && strings.Contains(rf.Warnings[0], "stays ordinary data")
		if got != warn || (!warn && len(rf.Warnings) != 0) {
			t.Errorf("labels %s: warnings %q; want a warning: %v", labelsLine, rf.Warnings, warn)
		}
	}
}

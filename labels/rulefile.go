package labels

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// embedded holds the shipped rule files, one per sensitivity topic.
//
//go:embed rules/*.yaml
var embedded embed.FS

// EmbeddedRules returns the shipped rule files as an fs.FS rooted at the
// directory that holds them.
func EmbeddedRules() fs.FS {
	sub, err := fs.Sub(embedded, "rules")
	if err != nil {
		panic(err)
	}
	return sub
}

// ruleFile is one YAML rule file: a sensitivity topic, where its codes come
// from, and its rules.
type ruleFile struct {
	Topic       string     `yaml:"topic"`
	Description string     `yaml:"description"`
	Sources     []string   `yaml:"sources"`
	Rules       []fileRule `yaml:"rules"`
}

// fileRule is Rule as written in a rule file. Labels are written as
// "system|code", or as a bare code: one of U L M N R V is a
// confidentiality, anything else a v3-ActCode code (SUD, 42CFRPart2 ...).
type fileRule struct {
	ID              string     `yaml:"id"`
	System          string     `yaml:"system"`
	Codes           []string   `yaml:"codes"`
	Prefixes        []string   `yaml:"prefixes"`
	Ranges          [][]string `yaml:"ranges"`
	Exclude         []string   `yaml:"exclude"`
	ExcludePrefixes []string   `yaml:"exclude_prefixes"`
	Types           []string   `yaml:"types"`
	Labels          []string   `yaml:"labels"`
	// Every marks a type rule (Rule): every resource of its types,
	// whatever it holds. Written out, so that a rule whose system and codes
	// were deleted by mistake is refused, not read as one.
	Every bool `yaml:"every"`
}

// ParseLabel reads a label written as "system|code" or as a bare code (see
// fileRule).
func ParseLabel(s string) Label {
	if i := strings.LastIndexByte(s, '|'); i >= 0 {
		return Label{System: NormalizeSystem(s[:i]), Code: s[i+1:]}
	}
	if ConfidentialityRank(s) >= 0 {
		return Label{System: SystemConfidentiality, Code: s}
	}
	return Label{System: SystemActCode, Code: s}
}

// MaxRuleFileSize bounds a rule file: a larger one is refused (rule files
// are small; a huge one is a mistake, and is read on every poll).
const MaxRuleFileSize = 32 << 20

// RuleFiles is what ReadRules found in a set of rule files.
type RuleFiles struct {
	Rules []Rule
	// Topics are the distinct topics of the files, sorted.
	Topics []string
	// Warnings are "file:line: problem" for what loads but may not do
	// what was meant (a system that is no known clinical code system).
	Warnings []string
	// Revision is a hash of the names and contents of the rule files, in
	// name order: which rules label.
	Revision string
}

// LoadRules reads every *.yaml and *.yml file of fsys (not recursively;
// the extension in any case), in name order, and returns their rules. It
// reports every problem at once, each as "file:line: problem"; on any
// problem it returns no rules.
func LoadRules(fsys fs.FS) ([]Rule, error) {
	rf, err := ReadRules(fsys)
	return rf.Rules, err
}

// ReadRules is LoadRules, also returning the topics, the warnings and the
// revision of the rule files.
func ReadRules(fsys fs.FS) (RuleFiles, error) {
	names, err := ruleFileNames(fsys)
	if err != nil {
		return RuleFiles{}, err
	}
	if len(names) == 0 {
		return RuleFiles{}, errors.New("labels: no rule files (*.yaml)")
	}
	var out RuleFiles
	var errs []error
	ids := map[string]string{}
	h := newRevision()
	for _, name := range names {
		b, err := readRuleFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since listed: a change in progress
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		h.add(name, b)
		rs, warns, err := loadRuleFile(name, b)
		errs = append(errs, err)
		out.Warnings = append(out.Warnings, warns...)
		for _, r := range rs {
			if prev, dup := ids[r.ID]; dup {
				errs = append(errs, fmt.Errorf("%s: rule %q: id already used in %s", name, r.ID, prev))
				continue
			}
			ids[r.ID] = name
			out.Rules = append(out.Rules, r)
			if !slices.Contains(out.Topics, r.Topic) {
				out.Topics = append(out.Topics, r.Topic)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return RuleFiles{}, fmt.Errorf("labels: rule files: %w", err)
	}
	slices.Sort(out.Topics)
	out.Revision = h.sum()
	return out, nil
}

// revision hashes rule files by name and content.
type revision struct{ h hash.Hash }

func newRevision() revision { return revision{sha256.New()} }

func (r revision) add(name string, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	r.h.Write(n[:])
	r.h.Write([]byte(name))
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	r.h.Write(n[:])
	r.h.Write(b)
}

func (r revision) sum() string { return hex.EncodeToString(r.h.Sum(nil)[:16]) }

// readRuleFile reads one rule file, refusing one larger than
// MaxRuleFileSize.
func readRuleFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxRuleFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > MaxRuleFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a rule file", name, MaxRuleFileSize>>20)
	}
	return b, nil
}

// ruleFileNames lists the rule files of fsys in name order.
func ruleFileNames(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("labels: reading rule directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		// The extension in any case: "gdis.YAML", saved so by an editor,
		// was skipped without a word, and its topic labelled nothing.
		if ext := path.Ext(e.Name()); !e.IsDir() && (strings.EqualFold(ext, ".yaml") || strings.EqualFold(ext, ".yml")) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// loadRuleFile validates one rule file, b, named name; it also returns
// warnings about what loads but may not do what was meant.
func loadRuleFile(name string, b []byte) ([]Rule, []string, error) {
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: %s", name, yamlMessage(err))
	}
	// A second document (after "---") would be dropped without a word:
	// its topic would label nothing.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: after the first YAML document: %s", name, yamlMessage(err))
		}
		var v any
		if next.Decode(&v) == nil && v == nil {
			continue // an empty document: a "---" at the end
		}
		return nil, nil, fmt.Errorf("%s:%d: a second YAML document (---): a rule file holds one topic; put each in a file of its own", name, max(next.Line, 1))
	}
	lines := ruleLines(b)
	var errs []error
	var warns []string
	if strings.TrimSpace(f.Topic) == "" {
		errs = append(errs, fmt.Errorf("%s:1: no topic", name))
	}
	if len(f.Sources) == 0 {
		errs = append(errs, fmt.Errorf("%s:1: no sources: name where the codes come from", name))
	}
	if len(f.Rules) == 0 {
		errs = append(errs, fmt.Errorf("%s:1: no rules", name))
	}
	out := make([]Rule, 0, len(f.Rules))
	for k, fr := range f.Rules {
		line := 0
		if k < len(lines) {
			line = lines[k]
		}
		r, err := fr.rule(f.Topic, strings.Join(f.Sources, "; "))
		if err == nil {
			err = errors.Join(validateRule(r), checkFileRule(r), fr.checkEvery(r))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: rule %q: %s", name, line, fr.ID, strings.ReplaceAll(err.Error(), "\n", "; ")))
			continue
		}
		if w := systemWarning(r.System); w != "" && !r.typeOnly() {
			warns = append(warns, fmt.Sprintf("%s:%d: rule %q: %s", name, line, fr.ID, w))
		}
		if w := labelsWarning(r.Labels); w != "" {
			warns = append(warns, fmt.Sprintf("%s:%d: rule %q: %s", name, line, fr.ID, w))
		}
		if w := ndcWarning(r); w != "" {
			warns = append(warns, fmt.Sprintf("%s:%d: rule %q: %s", name, line, fr.ID, w))
		}
		out = append(out, r)
	}
	return out, warns, errors.Join(errs...)
}

// ndcWarning returns why an NDC rule may label more than it means: codes
// or exclusions of ten digits without hyphens, which match each of the
// three NDCs they may spell (4-4-2, 5-3-2, 5-4-1); "" when it has none.
func ndcWarning(r Rule) string {
	if codeMode(string(codeSystem([]byte(r.System)))) != keyNDC {
		return ""
	}
	var plain []string
	for _, c := range slices.Concat(r.Codes, r.Exclude) {
		if ndcPlain10(bytes.TrimSpace([]byte(c))) {
			plain = append(plain, c)
		}
	}
	if len(plain) == 0 {
		return ""
	}
	return fmt.Sprintf("NDC %q: ten digits without hyphens may be any of three packages (4-4-2, 5-3-2, 5-4-1) and match all three; write each hyphenated as the FDA lists it, or in the 11-digit 5-4-2 form", plain)
}

// labelsWarning returns why a rule's labels may restrict nothing: none is
// a sensitivity or policy code or the confidentiality R or V (Set.Sensitive),
// and none is of an organisation's own system, which its policy may read
// ("labels: [N]", "labels: [NORDSCLCD]": what the rule matches stays
// ordinary data). "" otherwise.
func labelsWarning(ls []Label) string {
	set := NewSet(ls...)
	if set.Sensitive() {
		return ""
	}
	for _, l := range set {
		if l.System != SystemConfidentiality && vocabulary(l.System) == nil {
			return ""
		}
	}
	return fmt.Sprintf("labels %v hold no sensitivity or policy code and no confidentiality R or V: what the rule matches stays ordinary data", set.codes())
}

// codes returns the codes of s.
func (s Set) codes() []string {
	out := make([]string, len(s))
	for k, l := range s {
		out[k] = l.Code
	}
	return out
}

// yamlMessage shortens a YAML decoding error to one line.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return strings.ReplaceAll(strings.ReplaceAll(msg, "unmarshal errors:\n  ", ""), "\n  ", "; ")
}

// checkFileRule reports what validateRule lets through but would make a
// rule of a file match nothing: white space around a system, code,
// prefix, exclusion or range bound (codings never carry it, so the code
// never matches), and a type that is no FHIR R4 resource type.
func checkFileRule(r Rule) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	spaced := func(what string, s string) {
		if s != "" && strings.TrimSpace(s) != s {
			add("%s %q has white space around it: codings never do, so it would match nothing", what, s)
		}
	}
	spaced("system", r.System)
	for _, l := range []struct {
		name string
		list []string
	}{{"code", r.Codes}, {"prefix", r.Prefixes}, {"exclude", r.Exclude}, {"exclude prefix", r.ExcludePrefixes}, {"type", r.Types}} {
		for _, c := range l.list {
			spaced(l.name, c)
		}
	}
	for _, rg := range r.Ranges {
		spaced("range bound", rg[0])
		spaced("range bound", rg[1])
	}
	errs = append(errs, checkCodeSpelling(r)...)
	errs = append(errs, checkSelfExcluded(r)...)
	for _, t := range r.Types {
		if t == "" || strings.TrimSpace(t) != t || resourceTypeNames[t] {
			continue
		}
		if s := suggestType(t); s != "" {
			add("type %q is not a FHIR R4 resource type (did you mean %q?)", t, s)
		} else {
			add("type %q is not a FHIR R4 resource type", t)
		}
	}
	return errors.Join(errs...)
}

// checkCodeSpelling reports a code, prefix, exclusion or range bound of a
// known clinical system (ICD-10(-CM), SNOMED CT, LOINC, RxNorm, HCPCS, NDC,
// ATC) that holds white space or "|" inside it: no code of those systems does
// (a display pasted with the code, as SNOMED browsers copy "5602001
// |Opioid abuse|"), so it would match nothing (QA round 25).
func checkCodeSpelling(r Rule) []error {
	if codeMode(string(codeSystem([]byte(r.System)))) == keyExact {
		return nil
	}
	var errs []error
	check := func(what, c string) {
		c = strings.TrimSpace(c) // white space around it: reported on its own
		if i := strings.IndexAny(c, " \t\r\n|"); i >= 0 {
			msg := fmt.Sprintf("%s %q holds white space or \"|\": no code of %s does, so it would match nothing", what, c, r.System)
			if f := strings.TrimSpace(c[:i]); f != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", f)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"code", r.Codes}, {"prefix", r.Prefixes}, {"exclude", r.Exclude}, {"exclude prefix", r.ExcludePrefixes}} {
		for _, c := range l.list {
			check(l.name, c)
		}
	}
	for _, rg := range r.Ranges {
		check("range bound", rg[0])
		check("range bound", rg[1])
	}
	return errs
}

// checkSelfExcluded reports a code, prefix or range of a rule that its own
// exclusions cover whole, compared as codings are (matchKey): it would
// match nothing, and the rule would load labelling less than it lists
// (QA round 25).
func checkSelfExcluded(r Rule) []error {
	if len(r.Exclude)+len(r.ExcludePrefixes) == 0 {
		return nil
	}
	mode := codeMode(string(codeSystem([]byte(r.System))))
	key := func(c string) string { return string(matchKey(nil, []byte(c), mode)) }
	exact := map[string]bool{}
	for _, c := range r.Exclude {
		exact[key(c)] = true
	}
	var prefixes [][2]string // as compared, as written
	// A prefix is keyed as index keys it: an NDC one by ndcPrefixKey.
	prefixKey := func(p string) string {
		if mode == keyNDC {
			k, _ := ndcPrefixKey(strings.TrimSpace(p))
			return k
		}
		return key(p)
	}
	for _, p := range r.ExcludePrefixes {
		if k := prefixKey(p); k != "" {
			prefixes = append(prefixes, [2]string{k, p})
		}
	}
	covered := func(k string) (string, bool) {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p[0]) {
				return p[1], true
			}
		}
		return "", false
	}
	var errs []error
	for _, c := range r.Codes {
		k := key(c)
		if exact[k] {
			errs = append(errs, fmt.Errorf("code %q is also in exclude: it would match nothing", c))
		} else if p, ok := covered(k); ok && k != "" {
			errs = append(errs, fmt.Errorf("code %q is excluded by exclude prefix %q: it would match nothing", c, p))
		}
	}
	for _, c := range r.Prefixes {
		if p, ok := covered(prefixKey(c)); ok && prefixKey(c) != "" {
			errs = append(errs, fmt.Errorf("prefix %q is excluded whole by exclude prefix %q: it would match nothing", c, p))
		}
	}
	for _, rg := range r.Ranges {
		lo, hi := key(rg[0]), key(rg[1])
		// Every code between two that share a prefix shares it too.
		for _, p := range prefixes {
			if lo != "" && strings.HasPrefix(lo, p[0]) && strings.HasPrefix(hi, p[0]) {
				errs = append(errs, fmt.Errorf("range [%q, %q] is excluded whole by exclude prefix %q: it would match nothing", rg[0], rg[1], p[1]))
				break
			}
		}
	}
	return errs
}

// resourceTypeNames are the FHIR R4 resource types.
var resourceTypeNames = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(r4ResourceTypes) {
		m[t] = true
	}
	return m
}()

// suggestType returns the resource type t was most likely meant to be, ""
// when none or more than one is.
func suggestType(t string) string {
	return closest(maps.Keys(resourceTypeNames), t)
}

// clinicalSystems are the code systems rules usually match, by canonical
// URL, and their OIDs. A rule on another system loads, with a warning:
// organisations have local code systems, but a misspelt system matches
// nothing.
var clinicalSystems = map[string]string{
	"http://hl7.org/fhir/sid/icd-10-cm":                       "2.16.840.1.113883.6.90",
	"http://hl7.org/fhir/sid/icd-10":                          "2.16.840.1.113883.6.3",
	"http://hl7.org/fhir/sid/icd-9-cm":                        "2.16.840.1.113883.6.103",
	"http://www.cms.gov/Medicare/Coding/ICD10":                "2.16.840.1.113883.6.4",
	"http://id.who.int/icd/release/11/mms":                    "",
	"http://snomed.info/sct":                                  "2.16.840.1.113883.6.96",
	"http://loinc.org":                                        "2.16.840.1.113883.6.1",
	"http://www.nlm.nih.gov/research/umls/rxnorm":             "2.16.840.1.113883.6.88",
	"http://www.ama-assn.org/go/cpt":                          "2.16.840.1.113883.6.12",
	"http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "2.16.840.1.113883.6.285",
	"http://hl7.org/fhir/sid/ndc":                             "2.16.840.1.113883.6.69",
	"http://hl7.org/fhir/sid/cvx":                             "2.16.840.1.113883.12.292",
	"http://www.whocc.no/atc":                                 "2.16.840.1.113883.6.73",
	"http://nucc.org/provider-taxonomy":                       "2.16.840.1.113883.6.101",
	"https://www.nubc.org/CodeSystem/RevenueCodes":            "",
	"https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set":                                "",
	"https://www.nubc.org/CodeSystem/PatDischargeStatus":                                                                  "",
	"https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software": "",
}

// systemWarning returns why system, a rule's, may match nothing: it is no
// known clinical code system (see clinicalSystems); "" when it is one, or
// an HL7 terminology code system.
func systemWarning(system string) string {
	if _, ok := clinicalSystems[system]; ok || strings.HasPrefix(system, "http://terminology.hl7.org/CodeSystem/") {
		return ""
	}
	// Another spelling the matcher reads as a known system (an OID, https,
	// a trailing slash: codeSystem) matches as that system does.
	if c := string(codeSystem([]byte(system))); c != system {
		if _, ok := clinicalSystems[c]; ok {
			return ""
		}
	}
	msg := fmt.Sprintf("system %q is not a known clinical code system: a coding matches only if its system is spelled exactly so", system)
	if s := suggestSystem(system); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// suggestSystem returns the clinical system that system most likely names:
// the same but for case, a trailing slash or a "|version", by its OID, or
// one letter apart.
func suggestSystem(system string) string {
	trimmed, _, _ := strings.Cut(system, "|")
	trimmed = strings.TrimSuffix(strings.TrimSpace(trimmed), "/")
	oid := strings.TrimPrefix(trimmed, "urn:oid:")
	for url, o := range clinicalSystems {
		if o != "" && oid == o {
			return url
		}
	}
	return closest(maps.Keys(clinicalSystems), trimmed)
}

// rule converts a file rule.
func (fr fileRule) rule(topic, source string) (Rule, error) {
	r := Rule{
		ID: fr.ID, System: fr.System, Codes: fr.Codes, Prefixes: fr.Prefixes,
		Exclude: fr.Exclude, ExcludePrefixes: fr.ExcludePrefixes, Types: fr.Types,
		Topic: topic, Source: source,
	}
	for _, rg := range fr.Ranges {
		if len(rg) != 2 {
			return Rule{}, fmt.Errorf("range %v is not [low, high]", rg)
		}
		r.Ranges = append(r.Ranges, [2]string{rg[0], rg[1]})
	}
	for _, s := range fr.Labels {
		r.Labels = append(r.Labels, ParseLabel(s))
	}
	return r, nil
}

// checkEvery refuses a type rule (Rule) not written out as one (every:
// true), and every: true on a rule that is not one: a code rule whose
// system and codes were deleted by mistake would otherwise label every
// resource of its types without a word.
func (fr fileRule) checkEvery(r Rule) error {
	switch {
	case fr.Every && !r.typeOnly():
		return errors.New("every: true labels every resource of its types: it takes types, and no system, codes, prefixes, ranges or exclusions")
	case !fr.Every && r.typeOnly():
		return fmt.Errorf("no system and no codes, prefixes or ranges: name them, or write every: true to label every %s whatever it holds", strings.Join(r.Types, ", "))
	}
	return nil
}

// ruleLines returns the line of each element of the top-level rules list.
func ruleLines(b []byte) []int {
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	for k := 0; k+1 < len(root.Content); k += 2 {
		if root.Content[k].Value == "rules" {
			var lines []int
			for _, n := range root.Content[k+1].Content {
				lines = append(lines, n.Line)
			}
			return lines
		}
	}
	return nil
}

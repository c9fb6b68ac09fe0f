package labels

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// LoadRules reads every *.yaml and *.yml file of fsys (not recursively), in
// name order, and returns their rules. It reports every problem at once,
// each as "file:line: problem"; on any problem it returns no rules.
func LoadRules(fsys fs.FS) ([]Rule, error) {
	names, err := ruleFileNames(fsys)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("labels: no rule files (*.yaml)")
	}
	var rules []Rule
	var errs []error
	ids := map[string]string{}
	for _, name := range names {
		rs, err := loadRuleFile(fsys, name)
		errs = append(errs, err)
		for _, r := range rs {
			if prev, dup := ids[r.ID]; dup {
				errs = append(errs, fmt.Errorf("%s: rule %q: id already used in %s", name, r.ID, prev))
				continue
			}
			ids[r.ID] = name
			rules = append(rules, r)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("labels: rule files: %w", err)
	}
	return rules, nil
}

// ruleFileNames lists the rule files of fsys in name order.
func ruleFileNames(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("labels: reading rule directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if ext := path.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// loadRuleFile reads and validates one rule file.
func loadRuleFile(fsys fs.FS, name string) ([]Rule, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.ReplaceAll(strings.ReplaceAll(msg, "unmarshal errors:\n  ", ""), "\n  ", "; ")
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	lines := ruleLines(b)
	var errs []error
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
			err = validateRule(r)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: rule %q: %s", name, line, fr.ID, strings.ReplaceAll(err.Error(), "\n", "; ")))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
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

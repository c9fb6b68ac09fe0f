package main

// QA round 28, area C: the configuration reference the README gives an
// operator is held to the code, both ways. Nothing here restates a list:
// the settings come from the Config struct's yaml tags and the variables
// from the map applyEnv reads; the documentation from the README files'
// YAML blocks and text.

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docFiles are the READMEs an operator is sent to for settings.
func docFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range []string{"README.md", "consent/README.md", "audit/README.md", "labels/README.md", "rego/README.md", "siem/README.md", "console/README.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", p))
		if err != nil {
			if os.IsNotExist(err) && p != "README.md" {
				continue
			}
			t.Fatal(err)
		}
		out[p] = string(b)
	}
	return out
}

var yamlFence = regexp.MustCompile("(?ms)^([ \t]*)```yaml\n(.*?)^[ \t]*```")

// docYAMLBlocks are the README's YAML blocks, dedented, by file and line.
func docYAMLBlocks(docs map[string]string) map[string]string {
	out := map[string]string{}
	for file, text := range docs {
		for _, m := range yamlFence.FindAllStringSubmatchIndex(text, -1) {
			indent := text[m[2]:m[3]]
			body := text[m[4]:m[5]]
			var lines []string
			for l := range strings.SplitSeq(body, "\n") {
				lines = append(lines, strings.TrimPrefix(l, indent))
			}
			line := 1 + strings.Count(text[:m[0]], "\n")
			out[file+":"+strconv.Itoa(line)] = strings.Join(lines, "\n")
		}
	}
	return out
}

// configLeafPaths are the dotted YAML paths of every setting of Config
// (a list of mappings adds its items' keys under the list's path).
func configLeafPaths(t reflect.Type, prefix string, out *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			*out = append(*out, p)
			configLeafPaths(ft.Elem(), p, out)
			continue
		}
		if ft.Kind() == reflect.Struct && ft.String() != "time.Time" {
			configLeafPaths(ft, p, out)
			continue
		}
		*out = append(*out, p)
	}
}

// docPaths are the dotted paths of every key a YAML node gives (a list's
// mapping items adding theirs under the list's path).
func docPaths(n *yaml.Node, prefix string, out map[string]bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			docPaths(c, prefix, out)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			docPaths(c, prefix, out)
		}
	case yaml.MappingNode:
		for k := 0; k+1 < len(n.Content); k += 2 {
			p := n.Content[k].Value
			if prefix != "" {
				p = prefix + "." + p
			}
			out[p] = true
			docPaths(n.Content[k+1], p, out)
		}
	}
}

// TestConfigReferenceMatchesCodeQA28C: every setting Config reads is shown
// in a README's YAML block under its full path, and every README YAML
// block that is configuration (its top-level keys are settings) loads as
// ds4p serve loads a config file (unknown keys refused), so a documented
// key that does not exist, or is spelt or nested otherwise, fails here.
func TestConfigReferenceMatchesCodeQA28C(t *testing.T) {
	docs := docFiles(t)
	var settings []string
	configLeafPaths(reflect.TypeOf(Config{}), "", &settings)
	top := map[string]bool{}
	for _, s := range settings {
		first, _, _ := strings.Cut(s, ".")
		top[first] = true
	}
	documented := map[string]bool{}
	blocks := docYAMLBlocks(docs)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range blocks {
			if !yield(k) {
				return
			}
		}
	})
	for _, where := range names {
		src := blocks[where]
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(src), &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := root.Content[0]
		isConfig := true
		for k := 0; k+1 < len(m.Content); k += 2 {
			if !top[m.Content[k].Value] {
				isConfig = false
			}
		}
		if !isConfig {
			continue
		}
		docPaths(&root, "", documented)
		c := defaultConfig()
		dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			t.Errorf("the configuration block at %s does not load as a config file: %s (lines counted from the block)", where, yamlProblems([]byte(src), err))
		} else if errs := c.Policy.validate(c.PolicyDir); len(errs) > 0 {
			// Blocks show parts of a configuration (no upstream, no keys),
			// so only what a block sets in full is checked: the policy
			// source's settings, whose defaults written out were refused.
			t.Errorf("the configuration block at %s loads but serve refuses its policy settings: %v", where, errors.Join(errs...))
		}
	}
	// A setting may instead be named by its full path in the text
	// (`ledger.retention`), and an item key of a list of mappings be shown
	// in the example beside its list (search_params: [] # - {resource: ...}).
	inText := func(p string) bool {
		for _, text := range docs {
			if strings.Contains(text, "`"+p+"`") || strings.Contains(text, "`"+p+":") {
				return true
			}
		}
		return false
	}
	inExample := func(p string) bool {
		parent, key := p[:strings.LastIndex(p, ".")], p[strings.LastIndex(p, ".")+1:]
		if !documented[parent] || !slices.Contains(settings, parent) {
			return false
		}
		item := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(parent[strings.LastIndex(parent, ".")+1:]) + `:.*(\n\s*#.*)*`)
		for _, src := range blocks {
			for _, m := range item.FindAllString(src, -1) {
				if regexp.MustCompile(`[{,]\s*` + key + `:`).MatchString(m) {
					return true
				}
			}
		}
		return false
	}
	for _, s := range settings {
		if !documented[s] && !inText(s) && !(strings.Contains(s, ".") && inExample(s)) {
			t.Errorf("setting %s is in no README's configuration block, and no README names it", s)
		}
	}
}

// TestEnvironmentReferenceMatchesCodeQA28C: every DS4P_ variable serve
// reads is named in a README, and every DS4P_ name a README gives is one
// serve reads, a family prefix of them (DS4P_LEDGER_*), or one the tests
// or tools read (it is in a Go file of the repository).
func TestEnvironmentReferenceMatchesCodeQA28C(t *testing.T) {
	docs := docFiles(t)
	var c Config
	vars := slices.Collect(func(yield func(string) bool) {
		for k := range c.envVars() {
			if !yield(k) {
				return
			}
		}
	})
	vars = append(vars, "DS4P_CONFIG")
	word := func(name string) *regexp.Regexp { return regexp.MustCompile(`\b` + name + `\b`) }
	for _, v := range vars {
		found := false
		for _, text := range docs {
			if word(v).MatchString(text) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is read by serve but named in no README", v)
		}
	}
	var goText strings.Builder
	filepath.WalkDir(filepath.Join("..", ".."), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			if d != nil && d.IsDir() && p != filepath.Join("..", "..") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".mjs") || strings.HasSuffix(p, "Makefile") || strings.HasSuffix(p, ".sh") {
			b, _ := os.ReadFile(p)
			goText.Write(b)
		}
		return nil
	})
	named := regexp.MustCompile(`\bDS4P_[A-Z0-9_]+`)
	for file, text := range docs {
		for _, n := range slices.Compact(slices.Sorted(slices.Values(named.FindAllString(text, -1)))) {
			switch {
			case slices.Contains(vars, n):
			case strings.HasSuffix(n, "_") && slices.ContainsFunc(vars, func(v string) bool { return strings.HasPrefix(v, n) }):
			case word(n).MatchString(goText.String()) && !isServeFamily(n, vars):
			default:
				t.Errorf("%s names %s, which serve does not read", file, n)
			}
		}
	}
}

// isServeFamily: n looks like one of serve's own variables (it shares
// their family prefix), so a Go file merely naming it does not make it one
// serve reads.
func isServeFamily(n string, vars []string) bool {
	for _, v := range vars {
		i := strings.LastIndex(v, "_")
		if i > len("DS4P") && strings.HasPrefix(n, v[:i+1]) {
			return true
		}
	}
	return false
}

// TestMetricsReferenceMatchesCodeQA28C: every metric ds4p's packages create
// (the name given to an OpenTelemetry instrument in their source) is named
// in a README, whole or as the README abbreviates a sibling's
// (`ds4p.rate_limit.refusals` and `.evictions`); and every ds4p.* metric
// the README's Telemetry list names is one the code creates.
func TestMetricsReferenceMatchesCodeQA28C(t *testing.T) {
	docs := docFiles(t)
	instrument := regexp.MustCompile(`(?:Int64|Float64)(?:Counter|Histogram|UpDownCounter|ObservableGauge|ObservableCounter|Gauge)\(\s*"(ds4p\.[a-z0-9_.]+)"`)
	var metrics []string
	root := filepath.Join("..", "..")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "test") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, _ := os.ReadFile(p)
			for _, m := range instrument.FindAllStringSubmatch(string(b), -1) {
				metrics = append(metrics, m[1])
			}
		}
		return nil
	})
	if len(metrics) < 5 {
		t.Fatalf("found %d metrics in the source: the pattern no longer finds them", len(metrics))
	}
	for _, m := range metrics {
		i := strings.LastIndex(m, ".")
		family, last := m[:i+1], m[i+1:]
		found := false
		for _, text := range docs {
			if strings.Contains(text, "`"+m+"`") || strings.Contains(text, "`"+m+"{") ||
				strings.Contains(text, "`"+family) && strings.Contains(text, "`."+last+"`") {
				found = true
			}
		}
		if !found {
			t.Errorf("metric %s is named in no README", m)
		}
	}
	tel := docs["README.md"]
	if i := strings.Index(tel, "\nMetrics: "); i >= 0 {
		list := tel[i : i+strings.Index(tel[i:], "\n\n")+1]
		for _, m := range regexp.MustCompile("`(ds4p\\.[a-z0-9_.]+)`").FindAllStringSubmatch(list, -1) {
			if !slices.Contains(metrics, m[1]) {
				t.Errorf("README's Metrics list names %s, which no instrument creates", m[1])
			}
		}
	} else {
		t.Error("README has no Metrics list (Configuration, Telemetry)")
	}
}

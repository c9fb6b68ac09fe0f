package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
)

// LabelsConfig configures labelling: where the rule files are and which
// Part 2 programs the organisation's data comes from.
type LabelsConfig struct {
	// RulesDir holds the rule files (*.yaml), reloaded on change; empty
	// means the embedded rules.
	RulesDir string `yaml:"rules_dir"`
	// Part2Programs are the 42 CFR Part 2 programs whose records get
	// 42CFRPart2, SUD, R and NORDSCLCD.
	Part2Programs []Part2Program `yaml:"part2_programs"`
	// CacheSize bounds the cross-response label cache (resources); 0 means
	// DefaultLabelCacheSize, negative disables it.
	CacheSize int `yaml:"cache_size"`
	// UnknownTargets: fetch (default) reads a propagating reference's
	// target that neither the response nor the cache knows from the
	// upstream before labelling; ignore labels without it.
	UnknownTargets string `yaml:"unknown_targets"`
	// KnownTTL is how long a fetched target that passed no labels on is
	// taken to stay so (0: labels.DefaultKnownTTL, negative: fetched for
	// every response that refers to it).
	KnownTTL time.Duration `yaml:"known_ttl"`
}

// Part2Program identifies one Part 2 program by references
// ("Organization/x", "Location/y", "HealthcareService/z",
// "Practitioner/p"), identifiers ("system|value") and meta.source URIs.
type Part2Program struct {
	Name        string   `yaml:"name"`
	References  []string `yaml:"references"`
	Identifiers []string `yaml:"identifiers"`
	Sources     []string `yaml:"sources"`
}

// DefaultLabelCacheSize is the default bound of the label cache.
const DefaultLabelCacheSize = 100_000

// labelReloadInterval is how often the rules directory is polled.
const labelReloadInterval = 2 * time.Second

// validate reports every problem of the labels section.
func (lc LabelsConfig) validate() []error {
	var errs []error
	if lc.RulesDir != "" {
		if st, err := os.Stat(lc.RulesDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("labels.rules_dir: %q is not a directory", lc.RulesDir))
		} else if _, err := labels.LoadDir(lc.RulesDir); err != nil {
			errs = append(errs, fmt.Errorf("labels.rules_dir: %w", err))
		}
	}
	if _, err := labels.NewLabeller(labels.Options{Programs: lc.programs()}); err != nil {
		errs = append(errs, fmt.Errorf("labels.part2_programs: %w", err))
	}
	return errs
}

func (lc LabelsConfig) programs() []labels.Program {
	out := make([]labels.Program, len(lc.Part2Programs))
	for k, p := range lc.Part2Programs {
		out[k] = labels.Program{Name: p.Name, References: p.References, Identifiers: p.Identifiers, Sources: p.Sources}
	}
	return out
}

// labeller builds the labeller the configuration describes, for offline
// use: it takes every absolute reference as naming the data's own server.
func (lc LabelsConfig) labeller() (*labels.Labeller, error) {
	return lc.labellerFor(nil)
}

// labellerFor builds the labeller for serving the FHIR server local tells
// (labels.Options.LocalServer).
func (lc LabelsConfig) labellerFor(local func(base string) bool) (*labels.Labeller, error) {
	rules, err := labels.LoadDir(lc.RulesDir)
	if err != nil {
		return nil, err
	}
	size := lc.CacheSize
	if size == 0 {
		size = DefaultLabelCacheSize
	}
	return labels.NewLabeller(labels.Options{Rules: rules, Programs: lc.programs(), CacheSize: max(size, 0), KnownTTL: lc.KnownTTL, LocalServer: local})
}

// watchRules reloads the rule files of RulesDir on change until ctx ends;
// problems are logged with file and line, never with patient data, and
// the returned readiness check reports the last rejection until a later
// change loads, and the topics the last reload dropped until the next
// change (nil without a rules directory). Its detail names the rules
// revision in use.
func (lc LabelsConfig) watchRules(ctx context.Context, l *labels.Labeller, log *slog.Logger) func(context.Context) error {
	if lc.RulesDir == "" {
		return nil
	}
	st := &ruleReloads{revision: l.Revision()} // what labeller() loaded, until the first poll
	go labels.WatchRules(ctx, l, lc.RulesDir, labelReloadInterval, func(r labels.Reload) {
		rev := ""
		if r.Err == nil {
			rev = l.Revision() // set by the reload; this goroutine alone reloads
		}
		st.set(r, rev)
		if r.Err != nil {
			log.Error("label rules not reloaded; the previous rules stay in use", "dir", lc.RulesDir, "error", r.Err)
			return
		}
		for _, w := range r.Warnings {
			log.Warn("label rule file: a rule may match or restrict nothing", "dir", lc.RulesDir, "warning", w)
		}
		if len(r.Dropped) > 0 {
			log.Warn("label rules reloaded without topics that were in use: their codes no longer label resources",
				"dir", lc.RulesDir, "dropped_topics", r.Dropped, "rules_revision", rev)
		}
		log.Info("label rules reloaded", "dir", lc.RulesDir, "rules", r.Rules, "topics", r.Topics, "rules_revision", rev)
	})
	return st.check
}

// ruleReloads remembers the last reload of the label rules.
type ruleReloads struct {
	mu       sync.Mutex
	rejected error
	dropped  []string // topics the last good reload dropped
	at       time.Time
	revision string // in use
}

func (r *ruleReloads) set(rl labels.Reload, revision string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected, r.at = rl.Err, time.Now()
	if rl.Err == nil {
		r.dropped, r.revision = rl.Dropped, revision
	}
}

// check is the readiness check label_rules_reload: a rejected change is
// "warn" (Degraded), as a rejected policy change is: the previous rules
// still label every response. A reload that dropped topics is "warn" too,
// until the next change: a deleted sud.yaml would otherwise stop labelling
// SUD without a word. Otherwise it passes, its detail naming the
// revision.
func (r *ruleReloads) check(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.rejected != nil:
		return degraded{fmt.Errorf("label rules changed at %s were not loaded and the previous rules (revision %s) stay in use: %w",
			r.at.UTC().Format(time.RFC3339), r.revision, r.rejected)}
	case len(r.dropped) > 0:
		return degraded{fmt.Errorf("label rules reloaded at %s (revision %s) without the topics %s that were in use: their codes no longer label resources",
			r.at.UTC().Format(time.RFC3339), r.revision, strings.Join(r.dropped, ", "))}
	case r.revision != "":
		return passing{fmt.Errorf("label rules revision %s", r.revision)}
	}
	return nil
}

// passing is readiness detail, not a problem: /readyz reports the check as
// "pass" with it.
type passing struct{ error }

func (passing) Passing() bool { return true }

// degraded is a readiness problem that leaves the proxy serving correctly;
// /readyz reports it as "warn" and stays 200.
type degraded struct{ error }

func (degraded) Degraded() bool  { return true }
func (d degraded) Unwrap() error { return d.error }

// synthPart2Program is the Part 2 program of the synthetic data (package
// internal/synth), as the demo configures it.
func synthPart2Program() Part2Program {
	return Part2Program{
		Name:        "riverside-recovery",
		References:  []string{synth.Part2OrgRef, synth.Part2PractitionerRef, "Location/part2-clinic-site"},
		Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|" + synth.Part2NPI},
		Sources:     []string{synth.Part2Source},
	}
}

// joinErrs joins errs into one error, nil when there are none.
func joinErrs(errs []error) error { return errors.Join(errs...) }

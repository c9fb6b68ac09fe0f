package labels

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// LoadDir returns the rules of the rule files in dir, or the shipped rules
// when dir is "".
func LoadDir(dir string) ([]Rule, error) {
	rf, err := ReadRulesDir(dir)
	return rf.Rules, err
}

// ReadRulesDir is LoadDir, also returning the topics, the warnings and the
// revision of the rule files (see ReadRules).
func ReadRulesDir(dir string) (RuleFiles, error) {
	if dir == "" {
		return ReadRules(EmbeddedRules())
	}
	return ReadRules(os.DirFS(dir))
}

// Reload is what one reload of a watched rule directory came to.
type Reload struct {
	// Err: the change was not loaded (a bad rule file, or the directory
	// or a file could not be read); the rules in use stay. The other
	// fields are then zero.
	Err      error
	Rules    int
	Topics   []string // the topics now in use, sorted
	Dropped  []string // topics in use before that the new rules lack: resources of them are no longer labelled by code
	Warnings []string // see RuleFiles.Warnings
	Revision string   // see RuleFiles.Revision
}

// Watch polls the rule files of dir every interval and, when one changed,
// loads them and swaps them into l. A bad file keeps the rules in use and
// is reported through report (file, line, problem); a good reload is
// reported with a nil error and the number of rules. Watch returns when ctx
// is done. WatchRules reports more.
func Watch(ctx context.Context, l *Labeller, dir string, interval time.Duration, report func(rules int, err error)) {
	WatchRules(ctx, l, dir, interval, func(r Reload) { report(r.Rules, r.Err) })
}

// WatchRules is Watch, reporting each reload in full. A change is told by
// the content of the rule files, not their sizes and times (a copy that
// keeps them, such as rsync -a or cp -p, is a change still). A directory
// or file that cannot be read, or a file larger than MaxRuleFileSize, is
// reported as an error once, until it changes; the rules in use stay.
func WatchRules(ctx context.Context, l *Labeller, dir string, interval time.Duration, report func(Reload)) {
	// No fingerprint yet: the first poll, right away, loads the directory
	// again, so a change made after the caller's first load and before
	// this goroutine ran is not missed, and the rule files' warnings are
	// reported at start rather than an interval later.
	last, lastErr := "", ""
	topics := topicsOf(l.Rules())
	t := time.NewTicker(interval)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		fp, err := fingerprint(dir)
		if err != nil {
			if err.Error() != lastErr {
				lastErr, last = err.Error(), "" // readable again, it is loaded again
				report(Reload{Err: fmt.Errorf("labels: reading the rule files: %w", err)})
			}
			continue
		}
		lastErr = ""
		if fp == last {
			continue
		}
		last = fp
		rf, err := ReadRulesDir(dir)
		if err == nil {
			err = l.SetRules(rf.Rules)
		}
		if err != nil {
			report(Reload{Err: err})
			continue
		}
		r := Reload{Rules: len(rf.Rules), Topics: rf.Topics, Warnings: rf.Warnings, Revision: rf.Revision}
		for _, tp := range topics {
			if !slices.Contains(rf.Topics, tp) {
				r.Dropped = append(r.Dropped, tp)
			}
		}
		topics = rf.Topics
		report(r)
	}
}

// topicsOf returns the distinct topics of rules, sorted.
func topicsOf(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		if !slices.Contains(out, r.Topic) {
			out = append(out, r.Topic)
		}
	}
	slices.Sort(out)
	return out
}

// fingerprint hashes the names and contents of the rule files of dir.
func fingerprint(dir string) (string, error) {
	fsys := os.DirFS(dir)
	names, err := ruleFileNames(fsys)
	if err != nil {
		return "", err
	}
	h := newRevision()
	for _, n := range names {
		b, err := readRuleFile(fsys, n)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since listed
		}
		if err != nil {
			return "", err
		}
		h.add(n, b)
	}
	return h.sum(), nil
}

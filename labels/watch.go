package labels

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// LoadDir returns the rules of the rule files in dir, or the shipped rules
// when dir is "".
func LoadDir(dir string) ([]Rule, error) {
	if dir == "" {
		return LoadRules(EmbeddedRules())
	}
	return LoadRules(os.DirFS(dir))
}

// Watch polls the rule files of dir every interval and, when one changed,
// loads them and swaps them into l. A bad file keeps the rules in use and
// is reported through report (file, line, problem); a good reload is
// reported with a nil error and the number of rules. Watch returns when ctx
// is done.
func Watch(ctx context.Context, l *Labeller, dir string, interval time.Duration, report func(rules int, err error)) {
	// No fingerprint yet: the first poll loads the directory again, so a
	// change made after the caller's first load and before this goroutine
	// ran is not missed.
	last := ""
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fp, err := fingerprint(dir)
		if err != nil || fp == last {
			continue
		}
		last = fp
		rules, err := LoadDir(dir)
		if err == nil {
			err = l.SetRules(rules)
		}
		report(len(rules), err)
	}
}

// fingerprint summarises the names, sizes and modification times of the
// rule files of dir.
func fingerprint(dir string) (string, error) {
	fsys := os.DirFS(dir)
	names, err := ruleFileNames(fsys)
	if err != nil {
		return "", err
	}
	out := ""
	for _, n := range names {
		st, err := fs.Stat(fsys, n)
		if err != nil {
			return "", err
		}
		out += fmt.Sprintf("%s:%d:%d;", n, st.Size(), st.ModTime().UnixNano())
	}
	return out, nil
}

package console

import (
	"context"
	"io/fs"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// testCache holds the Rego test results of one policy revision.
type testCache struct {
	mu       sync.Mutex
	revision string
	result   map[string]any
}

// testResult is one Rego test for the page.
type testResult struct {
	Package string `json:"package"`
	Name    string `json:"name"`
	Pass    bool   `json:"pass"`
	Error   string `json:"error,omitempty"`
}

// policyTests runs the Rego tests of the policy in force (once per
// revision) and answers their results.
func (h *Handler) policyTests(w http.ResponseWriter, r *http.Request, _ *session, _ []byte) {
	if h.cfg.PolicyFS == nil {
		writeJSON(w, http.StatusOK, map[string]any{"available": false,
			"reason": "the policy comes from a bundle; its tests ran where it was built (ds4p policy build)"})
		return
	}
	fsys := h.cfg.PolicyFS()
	rev, err := policy.Revision(fsys)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the policy revision could not be computed: "+err.Error())
		return
	}
	c := h.tests
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revision != rev || c.result == nil {
		c.result, c.revision = runTests(r.Context(), fsys, rev), rev
	}
	writeJSON(w, http.StatusOK, c.result)
}

func runTests(ctx context.Context, fsys fs.FS, rev string) map[string]any {
	start := time.Now()
	results, err := policy.RunTests(ctx, fsys)
	out := map[string]any{"available": true, "revision": rev, "ran_at": time.Now().UTC()}
	if err != nil {
		out["error"] = err.Error()
		return out
	}
	tests, pass := make([]testResult, len(results)), 0
	for i, t := range results {
		tests[i] = testResult{Package: t.Package, Name: t.Name, Pass: t.Pass}
		if t.Err != nil {
			tests[i].Error = t.Err.Error()
		}
		if t.Pass {
			pass++
		}
	}
	out["tests"], out["passed"], out["failed"] = tests, pass, len(tests)-pass
	out["seconds"] = time.Since(start).Seconds()
	return out
}

// ruleJSON is one label rule for the page.
type ruleJSON struct {
	ID              string      `json:"id"`
	System          string      `json:"system"`
	Codes           []string    `json:"codes,omitempty"`
	Prefixes        []string    `json:"prefixes,omitempty"`
	Ranges          [][2]string `json:"ranges,omitempty"`
	Exclude         []string    `json:"exclude,omitempty"`
	ExcludePrefixes []string    `json:"exclude_prefixes,omitempty"`
	Labels          []string    `json:"labels"`
	Types           []string    `json:"types,omitempty"`
	Source          string      `json:"source,omitempty"`
}

// labelRules answers the label rules in force, by sensitivity topic.
func (h *Handler) labelRules(w http.ResponseWriter, _ *http.Request, _ *session, _ []byte) {
	byTopic := map[string][]ruleJSON{}
	for _, rule := range h.cfg.Rules() {
		rj := ruleJSON{
			ID: rule.ID, System: rule.System, Codes: rule.Codes, Prefixes: rule.Prefixes, Ranges: rule.Ranges,
			Exclude: rule.Exclude, ExcludePrefixes: rule.ExcludePrefixes, Types: rule.Types, Source: rule.Source,
		}
		for _, l := range rule.Labels {
			rj.Labels = append(rj.Labels, labelName(l))
		}
		topic := rule.Topic
		if topic == "" {
			topic = "(no topic)"
		}
		byTopic[topic] = append(byTopic[topic], rj)
	}
	topics := make([]map[string]any, 0, len(byTopic))
	for topic, rules := range byTopic {
		topics = append(topics, map[string]any{"topic": topic, "rules": rules})
	}
	sort.Slice(topics, func(i, j int) bool { return topics[i]["topic"].(string) < topics[j]["topic"].(string) })
	writeJSON(w, http.StatusOK, map[string]any{"topics": topics})
}

// labelName is a label's code, prefixed by a short system name.
func labelName(l labels.Label) string {
	switch labels.NormalizeSystem(l.System) {
	case labels.SystemActCode:
		return l.Code
	case labels.SystemConfidentiality:
		return "confidentiality " + l.Code
	}
	return l.String()
}

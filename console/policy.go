package console

import (
	"context"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// testCache holds the Rego test results of one policy revision.
type testCache struct {
	mu      sync.Mutex
	key     string // policy.TreeKey of the tree the result is of
	result  map[string]any
	timeout time.Duration // bounds one run (default testRunTimeout)
}

// testRunTimeout bounds one run of the policy's Rego tests.
const testRunTimeout = 2 * time.Minute

// testResult is one Rego test for the page.
type testResult struct {
	Package string `json:"package"`
	Name    string `json:"name"`
	Pass    bool   `json:"pass"`
	Error   string `json:"error,omitempty"`
}

// policyTests runs the Rego tests of the policy in force (once per
// revision) and answers their results. The run is the server's, not the
// request's: a request that goes away does not cut it short. Only a
// complete run that ran at least one test is kept for the revision; one
// that errored, timed out or found no tests is answered but run again
// next time.
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
	// The results are kept by the tree's key, which follows its tests: the
	// revision leaves them out, and a test edited to fail (or fixed)
	// showed the results of the tests before it (QA round 27).
	key, err := policy.TreeKey(fsys)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the policy tree could not be read: "+err.Error())
		return
	}
	c := h.tests
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key == key && c.result != nil {
		writeJSON(w, http.StatusOK, c.result)
		return
	}
	timeout := c.timeout
	if timeout <= 0 {
		timeout = testRunTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
	defer cancel()
	result, complete := runTests(ctx, fsys, rev, timeout)
	if complete {
		c.result, c.key = result, key
	}
	writeJSON(w, http.StatusOK, result)
}

// runTests runs the Rego tests of fsys; complete is false when the run
// errored, was cut short (ctx ended) or ran no test, and the result says
// why in its error.
func runTests(ctx context.Context, fsys fs.FS, rev string, timeout time.Duration) (result map[string]any, complete bool) {
	start := time.Now()
	results, err := policy.RunTests(ctx, fsys)
	out := map[string]any{"available": true, "revision": rev, "ran_at": time.Now().UTC()}
	switch {
	case err != nil:
		out["error"] = err.Error()
		return out, false
	case ctx.Err() != nil:
		// The runner stops at the deadline and reports the tests it ran.
		out["error"] = "the Rego tests did not finish within " + timeout.String() + "; " + strconv.Itoa(len(results)) + " ran"
		return out, false
	case len(results) == 0:
		out["error"] = "the policy has no Rego tests, or none ran"
		return out, false
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
	return out, true
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

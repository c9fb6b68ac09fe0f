package proxy

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// rulesReloadingDecider reloads the label rules (as the rules watcher may)
// while the first decision of a response is taken, after its items were
// labelled.
type rulesReloadingDecider struct {
	Decider
	l     *labels.Labeller
	rules []labels.Rule
	once  sync.Once
}

func (d *rulesReloadingDecider) Decide(ctx context.Context, in policy.Input) (policy.Decision, error) {
	var err error
	d.once.Do(func() { err = d.l.SetRules(d.rules) })
	if err != nil {
		return policy.Decision{}, err
	}
	return d.Decider.Decide(ctx, in)
}

// ownLabeller is a labeller of the shipped rules this test alone changes.
func ownLabeller(t *testing.T) *labels.Labeller {
	t.Helper()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// withoutTopic is the shipped rules without topic's.
func withoutTopic(topic string) []labels.Rule {
	var out []labels.Rule
	for _, r := range labels.DefaultRules() {
		if r.Topic != topic {
			out = append(out, r)
		}
	}
	return out
}

// TestLedgerNamesTheLabelRules: every ledger entry names the label rules
// revision that labelled the response beside the policy revision, both when
// the rules were reloaded while it was processed; GET /admin/policy and
// /admin/decide name the revision in force. An auditor asking why an item
// was disclosed as ordinary needs the rules as much as the policy.
func TestLedgerNamesTheLabelRules(t *testing.T) {
	t.Parallel()
	t.Run("read", func(t *testing.T) {
		l := ownLabeller(t)
		h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Labeller = l })
		if resp, body := h.get("/fhir/Observation/bp1", tokConsented); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if len(h.ledger.entries) != 1 || h.ledger.entries[0].RulesRevision == "" || h.ledger.entries[0].RulesRevision != l.Revision() {
			t.Fatalf("ledger %+v, want rules revision %s", h.ledger.entries, l.Revision())
		}
	})
	t.Run("reloaded while processed", func(t *testing.T) {
		l := ownLabeller(t)
		before := l.Revision()
		h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) {
			d.Labeller = l
			d.Decider = &rulesReloadingDecider{Decider: d.Decider, l: l, rules: withoutTopic("HIV")}
		})
		if resp, body := h.get("/fhir/Observation/bp1", tokConsented); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		want := before + "," + l.Revision()
		if l.Revision() == before || len(h.ledger.entries) != 1 || h.ledger.entries[0].RulesRevision != want {
			t.Fatalf("ledger %+v, want rules revisions %s", h.ledger.entries, want)
		}
	})
	t.Run("admin", func(t *testing.T) {
		l := ownLabeller(t)
		h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Labeller = l })
		status := func() string {
			resp, body := h.get("/admin/policy", tokAdmin)
			var st struct {
				policy.Status
				LabelRules string `json:"label_rules_revision"`
			}
			if err := json.Unmarshal([]byte(body), &st); resp.StatusCode != 200 || err != nil || st.Revision == "" {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			return st.LabelRules
		}
		if got := status(); got != l.Revision() {
			t.Fatalf("GET /admin/policy label_rules_revision %q, want %q", got, l.Revision())
		}
		if err := l.SetRules(withoutTopic("HIV")); err != nil {
			t.Fatal(err)
		}
		if got := status(); got != l.Revision() {
			t.Fatalf("after a reload: label_rules_revision %q, want %q", got, l.Revision())
		}
		resp, body := h.post("/admin/decide", tokAdmin, `{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},"query":"Observation/bp1"}`)
		if resp.StatusCode != 200 || !strings.Contains(body, `"rules_revision":"`+l.Revision()+`"`) {
			t.Fatalf("%d %s, want rules revision %s", resp.StatusCode, body, l.Revision())
		}
		if len(h.ledger.entries) != 1 || h.ledger.entries[0].RulesRevision != l.Revision() {
			t.Fatalf("ledger %+v, want rules revision %s", h.ledger.entries, l.Revision())
		}
	})
}

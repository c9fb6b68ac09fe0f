package stages

import (
	"context"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// TestStages runs every stage once on the 100-entry Bundle, so that the
// benchmarks' fixtures keep working when the stages change; it is fast and
// runs with the ordinary tests.
func TestStages(t *testing.T) {
	ctx := context.Background()
	c := newCorpus(t, 100)
	if err := fjson.Validate(c.body, maxJSONDepth); err != nil {
		t.Fatal(err)
	}
	if err := collect(c.body); err != nil {
		t.Fatal(err)
	}
	l := labels.Default()
	if _, err := labelEdits(l, c, nil); err != nil {
		t.Fatal(err)
	}
	results, err := labelAll(l, c)
	if err != nil {
		t.Fatal(err)
	}
	cs := openConsents(t, openDB(t))
	dc := decideCase{corpus: c, results: results, consents: map[string][]any{}}
	for _, r := range results {
		if dc.consents[r.Patient], err = policyConsents(ctx, cs, r.Patient); err != nil {
			t.Fatal(err)
		}
	}
	eng := newEngine(t)
	withheld := map[string]int{}
	for _, cl := range callers {
		evals, w, err := decideClasses(ctx, eng, dc, cl.caller)
		if err != nil {
			t.Fatal(err)
		}
		if evals == 0 || evals > len(results) {
			t.Errorf("%s: %d decision classes for %d entries", cl.name, evals, len(results))
		}
		withheld[cl.name] = w
	}
	if withheld["restrictive"] <= withheld["permissive"] {
		t.Errorf("restrictive caller withheld %d entries, permissive %d: the callers do not differ", withheld["restrictive"], withheld["permissive"])
	}
	led := openLedger(t, false)
	if err := led.Append(ctx, ledgerEntries(results, eng.Revision())...); err != nil {
		t.Fatal(err)
	}
}

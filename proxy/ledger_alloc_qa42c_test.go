package proxy

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// TestLedgerEntriesSizedPerPatientQA42C: a search over many patients (the
// 1,000-entry benchmark's Bundle names 200) grew each patient's disclosed
// and withheld lists by doubling, about 10 % of the response's allocation;
// they are carved at their size from one slab each. Same entries, in the
// same order, with the same items.
func TestLedgerEntriesSizedPerPatientQA42C(t *testing.T) {
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse("http://127.0.0.1:1/fhir")
	srv, err := New(Options{Upstream: up}, Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: &fakeConsents{}})
	if err != nil {
		t.Fatal(err)
	}
	permit, deny := &class{decision: policy.Decision{Effect: policy.Permit}}, &class{decision: policy.Decision{Effect: policy.Deny}}
	r := &run{s: srv, ex: &exchange{requestID: "r1"}}
	const patients, each = 40, 25
	for k := range patients * each {
		it := &item{res: &labels.Result{Type: "Observation", ID: fmt.Sprint("o", k), Patient: fmt.Sprint("Patient/p", k%patients)}, class: permit}
		if k%7 == 0 {
			it.class = deny
		}
		if k%50 == 3 { // one naming two patients is in each one's entry
			it.res.Patients = []string{it.res.Patient, "Patient/p0"}
		}
		r.items = append(r.items, it)
	}
	es := r.ledgerEntries()
	if len(es) != patients {
		t.Fatalf("%d entries, want %d", len(es), patients)
	}
	for k, e := range es {
		p := fmt.Sprint("Patient/p", k)
		var disclosed, withheld []string
		for _, it := range r.items {
			if it.res.Patient != p && !(len(it.res.Patients) > 1 && p == "Patient/p0") {
				continue
			}
			if it.class == permit {
				disclosed = append(disclosed, it.res.ID)
			} else {
				withheld = append(withheld, it.res.ID)
			}
		}
		if got, want := ids(e.Disclosed), fmt.Sprint(disclosed); e.Patient != p || got != want {
			t.Fatalf("entry %d: %s disclosed %s, want %s %s", k, e.Patient, got, p, want)
		}
		if got, want := ids(e.Withheld), fmt.Sprint(withheld); got != want {
			t.Fatalf("entry %d: withheld %s, want %s", k, got, want)
		}
	}
	n := testing.AllocsPerRun(20, func() { r.ledgerEntries() })
	t.Logf("%.0f allocations for %d patients", n, patients)
	if limit := float64(3*patients + 20); n > limit {
		t.Errorf("ledgerEntries makes %.0f allocations for %d patients, want at most %.0f", n, patients, limit)
	}
}

func ids(items []audit.Item) string {
	var s []string
	for _, it := range items {
		s = append(s, it.ID)
	}
	return fmt.Sprint(s)
}

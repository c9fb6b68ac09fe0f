// Package ledgerfill writes synthetic ledger entries, for measuring the
// console and the ledger queries on large ledgers.
package ledgerfill

import (
	"context"
	"fmt"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// Fill appends n entries ending at end, 1,000 per commit.
func Fill(ctx context.Context, l *audit.Ledger, n int, end time.Time) error {
	batch := make([]audit.Entry, 0, 1000)
	for i := range n {
		batch = append(batch, Synthetic(i, end.Add(-time.Duration(n-i)*30*time.Second)))
		if len(batch) == cap(batch) || i == n-1 {
			if err := l.Append(ctx, batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

const (
	actCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	conf    = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|"
)

// Synthetic is entry i at t.
func Synthetic(i int, t time.Time) audit.Entry {
	e := audit.Entry{
		Time: t, RequestID: fmt.Sprintf("bench-%d", i),
		Caller:   audit.Party{Subject: fmt.Sprintf("Practitioner/dr-%d", i%500), Org: fmt.Sprintf("Organization/org-%d", i%50), Client: "ehr"},
		Purposes: []string{"TREAT"}, Patient: fmt.Sprintf("Patient/p-%d", i%10_000), Interaction: "search",
		Query: "/Condition?patient=p", PolicyRevision: "bench",
		Disclosed: []audit.Item{
			{Type: "Condition", ID: fmt.Sprintf("c-%d", i), Version: "1", Labels: []string{conf + "N"}},
			{Type: "Observation", ID: fmt.Sprintf("o-%d", i), Version: "2", Labels: []string{conf + "N"}},
			{Type: "MedicationRequest", ID: fmt.Sprintf("m-%d", i), Version: "1", Labels: []string{conf + "R", actCode + "PSY"}},
		},
		Consents: []audit.ConsentRef{{ID: "consent-1", Version: "1"}},
	}
	if i%7 == 0 {
		e.Purposes = []string{"HPAYMT"}
	}
	if i%5 == 0 {
		e.Withheld = []audit.Item{{Type: "Condition", ID: fmt.Sprintf("sud-%d", i), Version: "1",
			Labels: []string{conf + "R", actCode + "SUD", actCode + "42CFRPart2"}}}
	}
	if i%1000 == 0 {
		e.Purposes = []string{"ETREAT"}
		e.BreakGlass = &audit.BreakGlass{Reason: "emergency", DisclosedBy: "ds4p"}
	}
	return e
}

package proxy

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestSimulationRecordsReferenceTargetsQA35D: a simulation labels its
// items as the response path would, reading from the server the resources
// their references name; the answer's labels of an item are then those
// resources' labels, so a policy author learns what the server holds
// under those ids, and the read is recorded in the ledger as a fetched
// item is. QA round 35, area D: an inline order (the author's own, with
// draft consents, so nothing else was read) naming the server's
// Condition/sud1 as its reason came back labelled OPIOIDUD and SUD, which
// told the author that sud1, a record of another patient, is an opioid use
// disorder, and no ledger entry said so.
func TestSimulationRecordsReferenceTargetsQA35D(t *testing.T) {
	t.Parallel()
	up := newRouted(map[string]string{"Condition/sud1": sudCondition})
	h := newHarness(t, up.handle, withCache)
	const author = "Organization/ops||ds4p/policy-author"
	order := `{"resourceType":"MedicationRequest","id":"m1","status":"active","intent":"order","subject":{"reference":"Patient/p7"},` +
		`"medicationCodeableConcept":{"text":"as directed"},"reasonReference":[{"reference":"Condition/sud1"}]}`
	body := `{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},"resources":[` + order + `],"consents":[]}`
	resp, out := h.post("/admin/decide", author, body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(out, "|SUD") {
		t.Fatalf("simulation: %d %s", resp.StatusCode, out)
	}
	h.ledger.mu.Lock()
	entries := slices.Clone(h.ledger.entries)
	h.ledger.mu.Unlock()
	if len(entries) != 1 {
		t.Fatalf("%d ledger entries, want one for Patient/p1, whose Condition/sud1 the simulation read: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.Interaction != "simulate" || e.Patient != "Patient/p1" || e.Caller.Org != "Organization/ops" || len(e.Disclosed) != 1 ||
		e.Disclosed[0].Type != "Condition" || e.Disclosed[0].ID != "sud1" || e.Disclosed[0].Version != "3" ||
		!slices.Contains(e.Disclosed[0].Labels, "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD") {
		t.Fatalf("ledger entry of the simulation: %+v", e)
	}

	// The same order without the reference reads nothing and records nothing.
	h.ledger.mu.Lock()
	h.ledger.entries = nil
	h.ledger.mu.Unlock()
	plain := strings.Replace(body, `,"reasonReference":[{"reference":"Condition/sud1"}]`, "", 1)
	if resp, out := h.post("/admin/decide", author, plain); resp.StatusCode != http.StatusOK || strings.Contains(out, "|SUD") || len(h.ledger.entries) != 0 {
		t.Fatalf("simulation of an order naming nothing: %d %s; ledger %+v", resp.StatusCode, out, h.ledger.entries)
	}
}

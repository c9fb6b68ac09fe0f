package proxy

import (
	"slices"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// TestSimulationRecordsStoredConsents: a simulation of inline resources
// that reads a patient's stored consents shows the policy author which
// consents the patient has (the answer lists them, the reasons name their
// provisions, the decisions say whom they permit), which under 42 CFR
// Part 2 says the patient is in SUD treatment: it is recorded in the
// ledger as shown to the author, before the answer goes out, for every
// patient whose consents were looked up. Draft consents read nothing and
// record nothing. QA round 16: a policy author alone could enumerate the
// patients with Part 2 consents, unrecorded.
func TestSimulationRecordsStoredConsents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	const author = "Organization/ops||ds4p/policy-author"
	part2 := `{"resourceType":"Condition","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}}`
	body := `{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},"patient":"Patient/p1","resources":[` + part2 + `]}`
	resp, out := h.post("/admin/decide", author, body)
	if resp.StatusCode != 200 || !strings.Contains(out, `"id":"c1"`) {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	h.ledger.mu.Lock()
	entries := slices.Clone(h.ledger.entries)
	h.ledger.mu.Unlock()
	if len(entries) != 1 {
		t.Fatalf("%d ledger entries, want one for Patient/p1: %+v", len(entries), entries)
	}
	e := entries[0]
	if e.Interaction != "simulate" || e.Patient != "Patient/p1" || e.Caller.Org != "Organization/ops" || e.Caller.Subject != "u-Organization/ops" ||
		len(e.Disclosed) != 1 || e.Disclosed[0].Type != "Consent" || e.Disclosed[0].ID != "c1" || e.Disclosed[0].Version != "1" ||
		!slices.Equal(e.Consents, []audit.ConsentRef{{ID: "c1", Version: "1"}}) || e.PolicyRevision == "" {
		t.Fatalf("ledger entry of the simulation: %+v", e)
	}

	// A patient without consents: the lookup is recorded too.
	h.ledger.mu.Lock()
	h.ledger.entries = nil
	h.ledger.mu.Unlock()
	if resp, out := h.post("/admin/decide", author, strings.Replace(body, "Patient/p1", "Patient/p9", 1)); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	if len(h.ledger.entries) != 1 || h.ledger.entries[0].Patient != "Patient/p9" || len(h.ledger.entries[0].Disclosed) != 0 {
		t.Fatalf("ledger %+v, want the lookup of Patient/p9's consents", h.ledger.entries)
	}

	// Drafts replace the stored consents of every patient: nothing read,
	// nothing recorded, not even for the second patient of an Appointment.
	h.ledger.mu.Lock()
	h.ledger.entries = nil
	h.ledger.mu.Unlock()
	appt := `{"resourceType":"Appointment","status":"booked","participant":[{"actor":{"reference":"Patient/p3"},"status":"accepted"},{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}`
	drafts := `{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},"resources":[` + appt + `],"consents":[]}`
	if resp, out := h.post("/admin/decide", author, drafts); resp.StatusCode != 200 || strings.Contains(out, `"id":"c1"`) || len(h.ledger.entries) != 0 {
		t.Fatalf("simulation with drafts: %d %s; ledger %+v", resp.StatusCode, out, h.ledger.entries)
	}

	// A ledger that cannot record withholds the answer.
	h.ledger.mu.Lock()
	h.ledger.fail = true
	h.ledger.mu.Unlock()
	resp, out = h.post("/admin/decide", author, body)
	if resp.StatusCode != 500 || strings.Contains(out, "c1") || !strings.Contains(out, "OperationOutcome") {
		t.Fatalf("simulation with a failing ledger: %d %s", resp.StatusCode, out)
	}
}

// TestSimulationRecordsEachPatientOfAFetchedItem: a fetched item naming
// several patients is recorded in the simulation entry of each, as the
// response path records it. QA round 16: an Appointment of Patient/p1 and
// Patient/p3 was recorded for p1 only.
func TestSimulationRecordsEachPatientOfAFetchedItem(t *testing.T) {
	t.Parallel()
	h := newHarness(t, compartmentUpstream)
	resp, out := h.post("/admin/decide", tokAdmin, `{"caller":{"org":"Organization/org-a","purposes":["TREAT"]},"query":"Appointment/sud13"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	h.ledger.mu.Lock()
	defer h.ledger.mu.Unlock()
	var patients []string
	for _, e := range h.ledger.entries {
		if e.Interaction != "simulate" || !slices.ContainsFunc(e.Disclosed, func(it audit.Item) bool { return it.Type == "Appointment" && it.ID == "sud13" }) {
			t.Errorf("entry of %s: %+v", e.Patient, e)
		}
		patients = append(patients, e.Patient)
	}
	slices.Sort(patients)
	if !slices.Equal(patients, []string{"Patient/p1", "Patient/p3"}) {
		t.Fatalf("the simulation's Appointment was recorded for %q, want each of its patients", patients)
	}
}

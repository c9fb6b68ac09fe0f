package proxy

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// noEmergencyConsent is p1's consent refusing disclosure for emergency
// treatment: permit, except deny ETREAT.
func noEmergencyConsent() consent.Record {
	raw := `{"resourceType":"Consent","id":"c-noer","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"permit","provision":[{"type":"deny",
	"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"ETREAT"}]}]}}`
	return consent.Record{ID: "c-noer", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(), JSON: []byte(raw)}
}

// TestBreakGlassOverConsentDenyRecordedQA39I: a patient's consent that
// refuses emergency disclosure does not stop a break-the-glass read (42
// CFR 2.51 needs no consent), but nothing told the reviewer the patient
// had refused: the decision's reasons were "break-glass" alone. The policy
// now names the consent it overrode; the 2.51 ledger entry's disclosed
// item carries that rule, and the overridden consent is not taken for one
// the disclosure relied on (no "Disclosed with the patient's written
// consent" 2.32(b) notice, not in the entry's consents).
func TestBreakGlassOverConsentDenyRecordedQA39I(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Auth = breakGlassAuth{}
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1"), noEmergencyConsent()}}}
	})
	resp, body := h.get("/fhir/Condition/p2c", "any")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "F11.20") {
		t.Fatalf("emergency read against the patient's refusal: %d %s, want 200 (42 CFR 2.51)", resp.StatusCode, body)
	}
	for _, n := range resp.Header.Values(NoticeHeader) {
		if strings.Contains(n, ConsentScopeNotice) || strings.Contains(n, "written consent") {
			t.Errorf("an emergency disclosure against the patient's consent says it was made with it: %q", n)
		}
	}
	h.ledger.mu.Lock()
	defer h.ledger.mu.Unlock()
	if len(h.ledger.entries) != 1 {
		t.Fatalf("%d ledger entries, want 1", len(h.ledger.entries))
	}
	e := h.ledger.entries[0]
	if e.BreakGlass == nil || len(e.Disclosed) != 1 {
		t.Fatalf("ledger entry %+v, want the 2.51 record of one disclosed item", e)
	}
	if !slices.Contains(e.Disclosed[0].Reasons, "break-glass-over-consent-deny") {
		t.Errorf("the 2.51 record does not say the emergency overrode the patient's consent: %+v", e.Disclosed[0])
	}
	for _, c := range e.Consents {
		if c.ID == "c-noer" {
			t.Errorf("the refusing consent is recorded as relied on: %+v", e.Consents)
		}
	}
}

package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBinarySecurityContextPatientApp: a patient's app (SMART patient
// context p1) read the Binary of another patient's ordinary document: a
// Binary named no patient, so it was in every patient's compartment. Now
// it answers as a missing one (the Binary's patient is its
// securityContext's), while the Binary of the app's own document is read.
func TestBinarySecurityContextPatientApp(t *testing.T) {
	t.Parallel()
	otherDoc := `{"resourceType":"DocumentReference","id":"d7","meta":{"versionId":"1","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},` +
		`"status":"current","subject":{"reference":"Patient/p2"},"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/b7"}}]}`
	ownDoc := strings.NewReplacer(`"id":"d7"`, `"id":"d8"`, "Patient/p2", "Patient/p1").Replace(otherDoc)
	res := map[string]string{
		"Binary/b7":            scBinary("b7", "DocumentReference/d7"),
		"DocumentReference/d7": otherDoc,
		"Binary/b8":            scBinary("b8", "DocumentReference/d8"),
		"DocumentReference/d8": ownDoc,
	}
	h := newHarness(t, scUpstream(res, nil, false), func(_ *Options, d *Deps) { d.Auth = patientAppAuth{} })
	if resp, body := h.get("/fhir/DocumentReference/d7", "x"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the setting: p1's app reads p2's document: %d %s", resp.StatusCode, body)
	}
	resp, body := h.get("/fhir/Binary/b7", "x")
	if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("Binary", "b7")) {
		t.Fatalf("p1's app reads the Binary of p2's document: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Binary/b8", "x"); resp.StatusCode != http.StatusOK || !strings.Contains(body, scSecret) {
		t.Fatalf("p1's app reads the Binary of its own document: %d %s", resp.StatusCode, body)
	}
}

// TestBinarySecurityContextLedgerPatient: a disclosed Binary is recorded
// under its securityContext's patient, so the patient's accounting of
// disclosures (42 CFR 2.24) lists it; it was recorded under no patient.
func TestBinarySecurityContextLedgerPatient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, scUpstream(map[string]string{
		"Binary/b1":            scBinary("b1", "DocumentReference/d1"),
		"DocumentReference/d1": scDocRef,
	}, nil, false))
	if resp, body := h.get("/fhir/Binary/b1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("consented caller: %d %s", resp.StatusCode, body)
	}
	h.ledger.mu.Lock()
	defer h.ledger.mu.Unlock()
	if len(h.ledger.entries) != 1 || h.ledger.entries[0].Patient != "Patient/p1" || len(h.ledger.entries[0].Disclosed) != 1 {
		t.Fatalf("ledger %+v, want one disclosure under Patient/p1", h.ledger.entries)
	}
}

// TestBinarySecurityContextTargetsIgnore: with labels.unknown_targets
// ignore the securityContext is not read, so whose record the Binary is
// cannot be told: withheld from every caller, as a missing one.
func TestBinarySecurityContextTargetsIgnore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, scUpstream(map[string]string{
		"Binary/b1":            scBinary("b1", "DocumentReference/d1"),
		"DocumentReference/d1": scDocRef,
	}, nil, false), func(o *Options, _ *Deps) { o.UnknownTargets = TargetsIgnore })
	for _, tok := range []string{tokOther, tokConsented} {
		if resp, body := h.get("/fhir/Binary/b1", tok); resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("Binary", "b1")) {
			t.Fatalf("%s: %d %s", tok, resp.StatusCode, body)
		}
	}
}

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

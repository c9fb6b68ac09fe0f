package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// perPatientDecider answers each patient's items with that patient's
// effect: redact or mask name the HIV label, permit and deny nothing.
// Items without labels are permitted.
type perPatientDecider map[string]string

func (d perPatientDecider) Decide(_ context.Context, in policy.Input) (policy.Decision, error) {
	effect := d[in.Patient]
	if len(in.Item.Labels) == 0 || effect == "" {
		return policy.Decision{Effect: policy.Permit, Reasons: []policy.Reason{}}, nil
	}
	dec := policy.Decision{Effect: effect, Reasons: []policy.Reason{{Rule: in.Patient + "-" + effect}}}
	switch effect {
	case policy.Redact:
		dec.Redact = []string{labels.SystemActCode + "|HIV"}
	case policy.Mask:
		dec.Mask = []string{labels.SystemActCode + "|HIV"}
	}
	return dec, nil
}
func (perPatientDecider) Revision() string { return "per-patient" }

// multiPatientAppt names Patient/p1 and Patient/p3 and has an
// HIV-labelled element.
const multiPatientAppt = `{"resourceType":"Appointment","id":"a13","status":"booked","description":"SECRET-P3-VISIT",
 "reasonCode":[{"text":"flu"},{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}}],"text":"hiv"}],
 "participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Patient/p3"},"status":"accepted"}]}`

// TestMultiPatientRedactAsksEveryPatient: an item naming several patients
// is disclosed in part (redact, mask) only when every patient's decision
// is that same one and it has no element labels; otherwise it is withheld
// and answers exactly as a missing resource. QA round 16: p1's redact was
// taken as the answer, p3's deny never asked, and the Appointment left
// with its HIV element cut.
func TestMultiPatientRedactAsksEveryPatient(t *testing.T) {
	t.Parallel()
	missing := newHarness(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	})
	mr, mb := missing.get("/fhir/Appointment/a13", tokConsented)
	for name, d := range map[string]perPatientDecider{
		"redact, deny":   {"Patient/p1": policy.Redact, "Patient/p3": policy.Deny},
		"mask, deny":     {"Patient/p1": policy.Mask, "Patient/p3": policy.Deny},
		"redact, permit": {"Patient/p1": policy.Redact, "Patient/p3": policy.Permit},
		"redact, mask":   {"Patient/p1": policy.Redact, "Patient/p3": policy.Mask},
		"redact, redact": {"Patient/p1": policy.Redact, "Patient/p3": policy.Redact}, // element labels
		"mask, mask":     {"Patient/p1": policy.Mask, "Patient/p3": policy.Mask},
	} {
		h := newHarness(t, fhirJSONHandler(200, multiPatientAppt), func(_ *Options, deps *Deps) { deps.Decider = d })
		resp, body := h.get("/fhir/Appointment/a13", tokConsented)
		if resp.StatusCode != mr.StatusCode || body != mb {
			t.Errorf("%s: %d %s\nwant it answered as a missing one: %d %s", name, resp.StatusCode, body, mr.StatusCode, mb)
		}
		if strings.Contains(body, "SECRET-P3-VISIT") {
			t.Errorf("%s: the Appointment leaked", name)
		}
		h.ledger.mu.Lock()
		for _, e := range h.ledger.entries {
			if len(e.Disclosed) != 0 || len(e.Redacted) != 0 || len(e.Withheld) != 1 {
				t.Errorf("%s: ledger entry of %s: disclosed %v redacted %v withheld %v", name, e.Patient, e.Disclosed, e.Redacted, e.Withheld)
			}
		}
		h.ledger.mu.Unlock()
	}
}

package proxy

import (
	"context"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
)

// payConsent permits org-a TREAT and COVERAGE, and denies HPAYMT to anyone
// beside them: a caller stating COVERAGE is refused (the policy applies a
// deny of HPAYMT to its narrower purposes), so the COVERAGE permit has an
// exception only the purpose hierarchy shows.
func payConsent(patient string) consent.Record {
	raw := `{"resourceType":"Consent","id":"c-pay","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"` + patient + `"},
	"provision":{"type":"deny","provision":[
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]},
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"COVERAGE"}]},
	  {"type":"deny",
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}]}]}}`
	return consent.Record{ID: "c-pay", Version: 1, Patient: patient, Status: "active", Updated: time.Now(), JSON: []byte(raw)}
}

// TestConsentScopeExceptionThroughPurposes: the 2.32(b) explanation relates
// a consent's purposes through the policy's purpose hierarchy: the COVERAGE
// permit beside a deny of HPAYMT is said to have exceptions (the policy
// does withhold from org-a stating COVERAGE), the TREAT permit is not.
func TestConsentScopeExceptionThroughPurposes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {payConsent("Patient/p1")}}}
	})
	resp, body := h.get("/fhir/Condition/p2c", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("read: %d %s", resp.StatusCode, body)
	}
	const want = ConsentScopeNotice + "; Disclosed with the patient's written consent. Consent/c-pay version 1;" +
		" it permits disclosure to Organization/org-a for the purposes TREAT;" +
		" and to Organization/org-a for the purposes COVERAGE, with exceptions the patient set."
	if got := scopeHeader(resp); got != want {
		t.Errorf("scope notice\n got %q\nwant %q", got, want)
	}
	// What the text says is what the policy does: org-a stating COVERAGE
	// gets nothing under this consent.
	if resp, body := h.get("/fhir/Condition/p2c", "Organization/org-a|COVERAGE|user/*.read"); resp.StatusCode != 404 {
		t.Errorf("org-a stating COVERAGE: %d %s", resp.StatusCode, body)
	}
}

// hierarchyDecider is a Decider whose policy revision in force says which
// purpose hierarchy it reads.
type hierarchyDecider struct {
	Decider
	h map[string][]string
}

func (d hierarchyDecider) PurposeHierarchy() map[string][]string { return d.h }

type noDecider struct{}

func (noDecider) Decide(context.Context, policy.Input) (policy.Decision, error) {
	return policy.Decision{}, nil
}
func (noDecider) Revision() string { return "r" }

// TestConsentScopePurposesOfThePolicyInForce: the hierarchy the
// explanation uses is the decider's when it can say (a policy revision
// with a local purpose under HPAYMT), the embedded policy data's
// otherwise.
func TestConsentScopePurposesOfThePolicyInForce(t *testing.T) {
	t.Parallel()
	c := &consent.Normalized{ID: "c1", Version: "1", Rules: []consent.Rule{
		{Path: "provision", Type: "deny", Conditions: []consent.Cond{{}}},
		{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []consent.Cond{{}, {Actors: []string{"Organization/org-a"}, Purposes: []string{"XLOCALPAY"}}}},
		{Path: "provision.provision[1]", Depth: 1, Type: "permit", Conditions: []consent.Cond{{}, {Actors: []string{"Organization/org-a"}, Purposes: []string{"ELIGVER"}}}},
		{Path: "provision.provision[2]", Depth: 1, Type: "deny", Conditions: []consent.Cond{{}, {Purposes: []string{"HPAYMT"}}}},
	}}
	text := func(d Decider) string {
		r := run{s: &Server{decider: d}, ex: &exchange{}, consents: map[string]patientConsents{"Patient/p1": {values: []any{c}}}}
		r.ex.caller.Org = "Organization/org-a"
		n, ok := r.consentScopeNotice([]audit.ConsentRef{{ID: "c1", Version: "1"}})
		if !ok {
			t.Fatal("no scope notice")
		}
		return n.Text
	}
	const embedded = "Disclosed with the patient's written consent. Consent/c1 version 1;" +
		" it permits disclosure to Organization/org-a for the purposes XLOCALPAY;" +
		" and to Organization/org-a for the purposes ELIGVER, with exceptions the patient set."
	if got := text(noDecider{}); got != embedded {
		t.Errorf("embedded hierarchy:\n got %q\nwant %q", got, embedded)
	}
	local := hierarchyDecider{Decider: noDecider{}, h: map[string][]string{"HPAYMT": {"XLOCALPAY"}}}
	const withLocal = "Disclosed with the patient's written consent. Consent/c1 version 1;" +
		" it permits disclosure to Organization/org-a for the purposes XLOCALPAY, with exceptions the patient set;" +
		" and to Organization/org-a for the purposes ELIGVER."
	if got := text(local); got != withLocal {
		t.Errorf("the decider's hierarchy:\n got %q\nwant %q", got, withLocal)
	}
}

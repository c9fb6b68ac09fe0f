package consent

import (
	"strings"
	"testing"
)

// TestScopeExplainsWhatIsPermitted: the explanation of a consent's scope
// (42 CFR 2.32(b)) names the consent, its version and period, and each
// permitting provision with the recipients, purposes, labels and periods
// it names, root to leaf; deny provisions are not listed.
func TestScopeExplainsWhatIsPermitted(t *testing.T) {
	t.Parallel()
	raw := `{"resourceType":"Consent","id":"c9","status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
	"provision":{"type":"deny","period":{"start":"2026-01-01","end":"2026-12-31"},"provision":[
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}],
	   "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}],
	   "provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}]},
	  {"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/hie"}}],
	   "period":{"start":"2026-03-01"}}]}}`
	n, err := Normalize(Record{ID: "c9", Version: 3, Patient: "Patient/p1", Status: "active", JSON: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	got := n.Scope()
	for _, want := range []string{
		"Consent/c9 version 3",
		"in force from 2026-01-01 until 2026-12-31",
		"it permits disclosure of records labelled SUD to Organization/org-a for the purposes TREAT, HPAYMT",
		"; and to Organization/hie, in force from 2026-03-01.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scope lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "HIV") {
		t.Errorf("scope lists a deny provision: %s", got)
	}
	n.ID = "upstream:c9"
	if got := n.Scope(); !strings.HasPrefix(got, "Consent/c9 version 3") {
		t.Errorf("an upstream consent: %s", got)
	}
}

func TestScopeOfAConsentThatPermitsNothing(t *testing.T) {
	t.Parallel()
	n := Normalized{ID: "c1", Version: "1", Rules: []Rule{{Path: "provision", Type: "deny", Conditions: []Cond{{}}}}}
	if got := n.Scope(); got != "Consent/c1 version 1; it permits nothing." {
		t.Fatalf("%q", got)
	}
	n.Rules = append(n.Rules, Rule{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []Cond{{}, {}}})
	if got := n.Scope(); got != "Consent/c1 version 1; it permits disclosure of all the patient's records to anyone." {
		t.Fatalf("%q", got)
	}
}

func TestScopeIsBoundedASCII(t *testing.T) {
	t.Parallel()
	actors := make([]string, 400)
	for i := range actors {
		actors[i] = "Organization/clinic-\u00e9-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
	}
	n := Normalized{ID: "c1", Version: "1", Rules: []Rule{{Type: "permit", Conditions: []Cond{{Actors: actors}}}}}
	got := n.Scope()
	if len(got) > maxScopeChars || !strings.HasSuffix(got, "...") {
		t.Fatalf("%d chars, ends %q", len(got), got[len(got)-10:])
	}
	for _, r := range got {
		if r < 0x20 || r > 0x7e {
			t.Fatalf("non-ASCII %q in %q", r, got)
		}
	}
}

package consent

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestScopeExplainsWhatIsPermitted: the explanation of a consent's scope
// (42 CFR 2.32(b)) names the consent, its version and period, and each
// permitting provision that applies to the recipient with the recipients,
// purposes, labels and periods it names, root to leaf; deny provisions are
// not listed, but a permit with a deny nested under it says it has
// exceptions.
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
	got := n.ScopeFor([]string{"Organization/org-a"}, nil)
	const wantA = "Consent/c9 version 3 (42CFRPart2), in force from 2026-01-01 until 2026-12-31;" +
		" it permits disclosure of records labelled SUD to Organization/org-a for the purposes TREAT, HPAYMT, with exceptions the patient set."
	if got != wantA {
		t.Errorf("org-a:\n got %q\nwant %q", got, wantA)
	}
	if strings.Contains(got, "HIV") {
		t.Errorf("scope lists a deny provision: %s", got)
	}
	const wantHIE = "Consent/c9 version 3 (42CFRPart2), in force from 2026-01-01 until 2026-12-31;" +
		" it permits disclosure to Organization/hie, in force from 2026-03-01."
	if got := n.ScopeFor([]string{"Organization/hie"}, nil); got != wantHIE {
		t.Errorf("hie:\n got %q\nwant %q", got, wantHIE)
	}
	n.ID = "upstream:c9"
	if got := n.ScopeFor([]string{"Organization/hie"}, nil); !strings.HasPrefix(got, "Consent/c9 version 3") {
		t.Errorf("an upstream consent: %s", got)
	}
}

// TestScopeLeavesOutOtherRecipients: a provision written for another
// recipient, with its labels, codes and records, is not described to this
// one (QA: org-a learnt that the patient's HIV record Condition/c-c-hiv-secret
// goes to an HIV clinic).
func TestScopeLeavesOutOtherRecipients(t *testing.T) {
	t.Parallel()
	raw := `{"resourceType":"Consent","id":"c-c","status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"deny","provision":[
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]},
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/hiv-clinic"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	   "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}],
	   "code":[{"coding":[{"system":"http://snomed.info/sct","code":"86406008"}]}],
	   "data":[{"meaning":"instance","reference":{"reference":"Condition/c-c-hiv-secret"}}]}]}}`
	n, err := Normalize(Record{ID: "c-c", Version: 1, Patient: "Patient/p1", Status: "active", JSON: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	got := n.ScopeFor([]string{"Organization/org-a", "http://hl7.org/fhir/sid/us-npi|1234567893", "user-1"}, nil)
	if want := "Consent/c-c version 1; it permits disclosure to Organization/org-a for the purposes TREAT."; got != want {
		t.Errorf("org-a:\n got %q\nwant %q", got, want)
	}
	for _, leak := range []string{"HIV", "86406008", "hiv", "Condition/"} {
		if strings.Contains(got, leak) {
			t.Errorf("org-a's scope tells %q: %s", leak, got)
		}
	}
	if got := n.ScopeFor([]string{"Organization/hiv-clinic"}, nil); !strings.Contains(got, "Condition/c-c-hiv-secret to Organization/hiv-clinic") ||
		strings.Contains(got, "org-a") {
		t.Errorf("hiv-clinic: %s", got)
	}
}

// TestScopeMatchesTheRecipient: a provision applies when, at every level
// that names actors, one of them is one of the recipient's forms (its
// organisation's reference or identifiers, the caller's subject); one
// naming no actor applies to anyone; when none applies the text says the
// recipient was admitted through a general designation, without detail.
func TestScopeMatchesTheRecipient(t *testing.T) {
	t.Parallel()
	orgA := []string{"Organization/org-a", "http://npi|111", "Practitioner/dr-x"}
	mk := func(levels ...[]string) Normalized {
		conds := []Cond{{}}
		for _, l := range levels {
			conds = append(conds, Cond{Actors: l, Purposes: []string{"TREAT"}})
		}
		return Normalized{ID: "c1", Version: "1", Rules: []Rule{
			{Path: "provision", Type: "deny", Conditions: []Cond{{}}},
			{Path: "provision.provision[0]", Depth: len(levels), Type: "permit", Conditions: conds}}}
	}
	const designated = "Consent/c1 version 1; it permits this disclosure to the recipient through a general designation of recipients;" +
		" the consent's terms are available from the disclosing program."
	for name, tc := range map[string]struct {
		n       Normalized
		applies bool
	}{
		"reference":               {mk([]string{"Organization/org-b", "Organization/org-a"}), true},
		"identifier":              {mk([]string{"http://npi|111"}), true},
		"subject":                 {mk([]string{"Practitioner/dr-x"}), true},
		"no actor":                {mk(nil), true},
		"another":                 {mk([]string{"Organization/org-b"}), false},
		"every level":             {mk([]string{"Organization/org-a"}, []string{"Organization/org-b"}), false},
		"every level, both match": {mk([]string{"Organization/hie", "Organization/org-a"}, []string{"http://npi|111"}), true},
		"empty form":              {mk([]string{""}), false},
	} {
		got := tc.n.ScopeFor(orgA, nil)
		if tc.applies == (got == designated) || (tc.applies && !strings.Contains(got, "it permits disclosure")) {
			t.Errorf("%s: applies=%v, got %q", name, tc.applies, got)
		}
	}
	if n := mk([]string{""}); n.ScopeFor([]string{""}, nil) != designated {
		t.Errorf("an empty recipient form matched an empty actor: %q", n.ScopeFor([]string{""}, nil))
	}
}

// TestScopeSaysANestedExceptionWithoutDetail: a permit with a deny nested
// under it, at any depth, says it has exceptions (not saying so overstates
// what was permitted) without naming what the deny names (that tells the
// recipient what the patient withholds); a deny under a sibling permit, or
// the root deny, is no exception to it.
func TestScopeSaysANestedExceptionWithoutDetail(t *testing.T) {
	t.Parallel()
	hiv := Cond{Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV"}}
	a := Cond{Actors: []string{"Organization/org-a"}}
	n := Normalized{ID: "c1", Version: "1", Rules: []Rule{
		{Path: "provision", Type: "deny", Conditions: []Cond{{}}},
		{Path: "provision.provision[1]", Depth: 1, Type: "permit", Conditions: []Cond{{}, a}},
		{Path: "provision.provision[1].provision[0]", Depth: 2, Type: "permit", Conditions: []Cond{{}, a, {Purposes: []string{"TREAT"}}}},
		{Path: "provision.provision[1].provision[0].provision[0]", Depth: 3, Type: "deny", Conditions: []Cond{{}, a, {Purposes: []string{"TREAT"}}, hiv}},
		{Path: "provision.provision[10]", Depth: 1, Type: "permit", Conditions: []Cond{{}, {Actors: []string{"Organization/org-b"}}}},
		{Path: "provision.provision[10].provision[0]", Depth: 2, Type: "deny", Conditions: []Cond{{}, {Actors: []string{"Organization/org-b"}}, hiv}},
		{Path: "provision.provision[2]", Depth: 1, Type: "permit", Conditions: []Cond{{}, {Purposes: []string{"HPAYMT"}}}},
	}}
	got := n.ScopeFor([]string{"Organization/org-a"}, nil)
	want := "Consent/c1 version 1; it permits disclosure to Organization/org-a, with exceptions the patient set;" +
		" and to Organization/org-a for the purposes TREAT, with exceptions the patient set; and for the purposes HPAYMT."
	if got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func TestScopeOfAConsentThatPermitsNothing(t *testing.T) {
	t.Parallel()
	n := Normalized{ID: "c1", Version: "1", Rules: []Rule{{Path: "provision", Type: "deny", Conditions: []Cond{{}}}}}
	if got := n.ScopeFor(nil, nil); got != "Consent/c1 version 1; it permits nothing." {
		t.Fatalf("%q", got)
	}
	n.Rules = append(n.Rules, Rule{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []Cond{{}, {}}})
	if got := n.ScopeFor(nil, nil); got != "Consent/c1 version 1; it permits disclosure of all the patient's records to anyone." {
		t.Fatalf("%q", got)
	}
}

// TestScopeKeepsUTF8: non-ASCII letters stay (the outcome entry carries
// them; the notice header percent-encodes them, proxy/notices.go), control
// characters go.
func TestScopeKeepsUTF8(t *testing.T) {
	t.Parallel()
	n := Normalized{ID: "c1", Version: "1", Rules: []Rule{{Type: "permit", Conditions: []Cond{{Actors: []string{"Organization/org-\u00fcber"}, Purposes: []string{"TREAT\r\nX-Evil: 1"}}}}}}
	got := n.ScopeFor([]string{"Organization/org-\u00fcber"}, nil)
	if want := "Consent/c1 version 1; it permits disclosure to Organization/org-\u00fcber for the purposes TREATX-Evil: 1."; got != want {
		t.Fatalf("\n got %q\nwant %q", got, want)
	}
}

// TestScopeIsNotClippedShort: the whole explanation of an ordinary consent
// goes out (the searchset's outcome entry carries it; only the notice
// header is cut), and a pathological one is cut at maxScopeChars, at a rune
// boundary, saying so.
func TestScopeIsNotClippedShort(t *testing.T) {
	t.Parallel()
	codes := make([]string, 150)
	for i := range codes {
		codes[i] = "http://hl7.org/fhir/sid/icd-10-cm|F" + strconv.Itoa(10+i%10) + "." + strconv.Itoa(i)
	}
	n := Normalized{ID: "c1", Version: "1", Rules: []Rule{{Type: "permit", Conditions: []Cond{{Codes: codes}}}}}
	got := n.ScopeFor(nil, nil)
	if len(got) < 3000 || !strings.HasSuffix(got, codes[len(codes)-1]+".") {
		t.Fatalf("a %d-byte explanation was cut: ...%q", len(got), got[len(got)-40:])
	}

	many := make([]string, 2000)
	for i := range many {
		many[i] = "http://example.org/cl\u00e9|" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
	}
	n = Normalized{ID: "c1", Version: "1", Rules: []Rule{{Type: "permit", Conditions: []Cond{{Codes: many}}}}}
	got = n.ScopeFor(nil, nil)
	if len(got) > maxScopeChars || !strings.HasSuffix(got, scopeCut) || !utf8.ValidString(got) {
		t.Fatalf("%d bytes, valid UTF-8 %v, ends %q", len(got), utf8.ValidString(got), got[len(got)-10:])
	}
}

// TestScopeNamesOnlyTheRecipient: a provision that names the recipient
// beside other recipients is described with the recipient alone: the
// others are no part of this disclosure.
func TestScopeNamesOnlyTheRecipient(t *testing.T) {
	t.Parallel()
	n := Normalized{ID: "c1", Version: "1", Rules: []Rule{
		{Path: "provision", Type: "deny", Conditions: []Cond{{}}},
		{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []Cond{{},
			{Actors: []string{"Organization/ryan-white-clinic", "Organization/org-a", "http://npi|111"}, Purposes: []string{"TREAT"}}}},
	}}
	got := n.ScopeFor([]string{"Organization/org-a", "http://npi|222"}, nil)
	if want := "Consent/c1 version 1; it permits disclosure to Organization/org-a for the purposes TREAT."; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}

// TestScopeSaysASiblingException: a deny beside the permit (not under it)
// that can apply to the recipient also takes part of what the permit
// allows (a deny wins at equal depth): the permit is said to have
// exceptions. A deny for another recipient, or for a purpose the permit
// does not name, is not one of its exceptions.
func TestScopeSaysASiblingException(t *testing.T) {
	t.Parallel()
	a := []string{"Organization/org-a"}
	mk := func(deny Cond) Normalized {
		return Normalized{ID: "c1", Version: "1", Rules: []Rule{
			{Path: "provision", Type: "deny", Conditions: []Cond{{}}},
			{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []Cond{{}, {Actors: a, Purposes: []string{"TREAT"}}}},
			{Path: "provision.provision[1]", Depth: 1, Type: "deny", Conditions: []Cond{{}, deny}},
		}}
	}
	for name, tc := range map[string]struct {
		deny Cond
		want bool
	}{
		"the recipient, by code":         {Cond{Actors: a, Codes: []string{"urn:x|X"}}, true},
		"anyone, by label":               {Cond{Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV"}}, true},
		"the recipient, for treatment":   {Cond{Actors: a, Purposes: []string{"TREAT"}}, true},
		"another recipient":              {Cond{Actors: []string{"Organization/org-b"}}, false},
		"the recipient, another purpose": {Cond{Actors: a, Purposes: []string{"HMARKT"}}, false},
	} {
		n := mk(tc.deny)
		got := strings.Contains(n.ScopeFor(a, nil), "with exceptions")
		if got != tc.want {
			t.Errorf("%s: %q", name, n.ScopeFor(a, nil))
		}
	}
}

// testPurposes is a part of the policy data's purpose_hierarchy
// (rego/ds4p/config/data.json), with a cycle the data could hold.
var testPurposes = PurposeHierarchy{
	"HPAYMT":   {"CLMATTCH", "COVAUTH", "COVERAGE", "MILDCRG", "REMITADV"},
	"COVERAGE": {"ELIGDTRM", "ELIGVER", "ENROLLM"},
	"TREAT":    {"CAREMGT", "CLINTRL", "COC", "ETREAT", "POPHLTH"},
	"ETREAT":   {"BTG", "ERTREAT"},
	"LOOPA":    {"LOOPB"},
	"LOOPB":    {"LOOPA"},
}

// TestScopeExceptionThroughThePurposeHierarchy: a deny beside the permit
// whose purpose is broader than the permit's (a deny of HPAYMT withholds
// from a caller stating COVERAGE, as the policy reads the hierarchy), or
// narrower, is one of its exceptions even though no code is shared;
// purposes the hierarchy does not relate are not, nor is a deny of a
// related purpose written for another recipient. Without the hierarchy
// the codes alone are compared.
func TestScopeExceptionThroughThePurposeHierarchy(t *testing.T) {
	t.Parallel()
	a := []string{"Organization/org-a"}
	mk := func(permit, deny []string, denyActors []string) Normalized {
		return Normalized{ID: "c1", Version: "1", Rules: []Rule{
			{Path: "provision", Type: "deny", Conditions: []Cond{{}}},
			{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []Cond{{}, {Actors: a, Purposes: permit}}},
			{Path: "provision.provision[1]", Depth: 1, Type: "deny", Conditions: []Cond{{}, {Actors: denyActors, Purposes: deny}}},
		}}
	}
	for name, tc := range map[string]struct {
		permit, deny, actors []string
		want, wantByCode     bool
	}{
		"the same purpose":                {[]string{"HPAYMT"}, []string{"HPAYMT"}, nil, true, true},
		"a deny of the broader purpose":   {[]string{"COVERAGE"}, []string{"HPAYMT"}, nil, true, false},
		"a deny two levels broader":       {[]string{"ELIGVER"}, []string{"HPAYMT"}, a, true, false},
		"a deny of a narrower purpose":    {[]string{"HPAYMT"}, []string{"COVERAGE"}, nil, true, false},
		"one of several purposes related": {[]string{"TREAT", "COVERAGE"}, []string{"HMARKT", "HPAYMT"}, nil, true, false},
		"unrelated purposes":              {[]string{"TREAT"}, []string{"HPAYMT"}, nil, false, false},
		"siblings under one purpose":      {[]string{"COVERAGE"}, []string{"REMITADV"}, nil, false, false},
		"a purpose the hierarchy lacks":   {[]string{"TREAT"}, []string{"HMARKT"}, nil, false, false},
		"a cycle in the data":             {[]string{"LOOPA"}, []string{"ETREAT"}, nil, false, false},
		"related, for another recipient":  {[]string{"COVERAGE"}, []string{"HPAYMT"}, []string{"Organization/org-b"}, false, false},
		"related through a cycle":         {[]string{"LOOPA"}, []string{"LOOPB"}, nil, true, false},
	} {
		n := mk(tc.permit, tc.deny, tc.actors)
		if got := n.ScopeFor(a, testPurposes); strings.Contains(got, "with exceptions") != tc.want {
			t.Errorf("%s: %q", name, got)
		}
		if got := n.ScopeFor(a, nil); strings.Contains(got, "with exceptions") != tc.wantByCode {
			t.Errorf("%s, codes only: %q", name, got)
		}
	}
}

// TestScopeHierarchyOfAConsent: in a consent as written (R4 JSON), a
// permit of COVERAGE to org-a beside a deny of HPAYMT to anyone is said to
// have exceptions: a recipient stating COVERAGE gets nothing the permit
// names, and the explanation must not say otherwise.
func TestScopeHierarchyOfAConsent(t *testing.T) {
	t.Parallel()
	raw := `{"resourceType":"Consent","id":"c7","status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"deny","provision":[
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"COVERAGE"}]},
	  {"type":"deny",
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}]}]}}`
	n, err := Normalize(Record{ID: "c7", Version: 2, Patient: "Patient/p1", Status: "active", JSON: []byte(raw)})
	if err != nil {
		t.Fatal(err)
	}
	const want = "Consent/c7 version 2; it permits disclosure to Organization/org-a for the purposes COVERAGE, with exceptions the patient set."
	if got := n.ScopeFor([]string{"Organization/org-a"}, testPurposes); got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

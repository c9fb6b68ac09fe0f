package oracle

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// ground is a small dataset whose guaranteed patients hold every kind:
// pat-0 Part 2 SUD, pat-1 ordinary only, pat-2 mental health and HIV.
var ground = synth.Generate(synth.Options{Seed: 3, Patients: 3})

func find(t *testing.T, ref string) synth.Resource {
	t.Helper()
	r, ok := ground.Find(ref)
	if !ok {
		t.Fatalf("%s is not in the dataset", ref)
	}
	return r
}

func grant(patient, org string, purposes ...string) Consent {
	return Consent{ID: "c", Patient: patient, Root: Provision{Type: "deny", Children: []Provision{
		{Type: "permit", Actors: []string{org}, Purposes: purposes}}}}
}

const orgA = "Organization/org-a"

func TestMayDisclose(t *testing.T) {
	t.Parallel()
	part2 := find(t, "Condition/pat-0-p2-cond")
	mh := find(t, "Condition/pat-2-mh-dep-cond")
	plain := ground.ByPatient("Patient/pat-1")[1]
	treat := Caller{Org: orgA, Purposes: []string{"TREAT"}, TTL: time.Hour}
	expired := grant("Patient/pat-0", orgA, "TREAT")
	expired.Start, expired.End = now.AddDate(0, -2, 0), now.AddDate(0, 0, -1)
	revoked := grant("Patient/pat-0", orgA, "TREAT")
	revoked.Revoked = true
	except := grant("Patient/pat-0", orgA, "TREAT")
	except.Root.Children[0].Children = []Provision{{Type: "deny", Classes: []string{"Condition"}}}
	blanket := Consent{ID: "b", Patient: "Patient/pat-0", Root: Provision{Type: "permit", Purposes: []string{"TREAT"}}}
	blanketMH := blanket
	blanketMH.Patient = "Patient/pat-2"
	objection := Consent{ID: "o", Patient: "Patient/pat-0", Root: Provision{Type: "deny"}}
	tests := []struct {
		name     string
		r        synth.Resource
		c        Caller
		consents []Consent
		want     bool
	}{
		{"ordinary data, any purpose", plain, Caller{Org: orgA}, nil, true},
		{"Part 2 without consent", part2, treat, nil, false},
		{"Part 2 with a grant to the org for treatment", part2, treat, []Consent{grant("Patient/pat-0", orgA, "TREAT")}, true},
		{"Part 2 with a grant to another org", part2, treat, []Consent{grant("Patient/pat-0", "Organization/org-b", "TREAT")}, false},
		{"Part 2 with a grant of another patient", part2, treat, []Consent{grant("Patient/pat-1", orgA, "TREAT")}, false},
		{"Part 2, caller states a purpose the grant lacks", part2, Caller{Org: orgA, Purposes: []string{"TREAT", "HPAYMT"}}, []Consent{grant("Patient/pat-0", orgA, "TREAT")}, false},
		{"Part 2, TPO grant, payment", part2, Caller{Org: orgA, Purposes: []string{"HPAYMT"}}, []Consent{grant("Patient/pat-0", orgA, "TREAT", "HPAYMT", "HOPERAT")}, true},
		{"Part 2, grant, no purpose", part2, Caller{Org: orgA}, []Consent{grant("Patient/pat-0", orgA, "TREAT")}, false},
		{"Part 2, expired grant", part2, treat, []Consent{expired}, false},
		{"Part 2, revoked grant", part2, treat, []Consent{revoked}, false},
		{"Part 2, grant except conditions", part2, treat, []Consent{except}, false},
		{"Part 2 encounter, grant except conditions", find(t, "Encounter/pat-0-p2-enc"), treat, []Consent{except}, true},
		{"Part 2, blanket permit names no recipient", part2, treat, []Consent{blanket}, false},
		{"Part 2, grant and an objection", part2, treat, []Consent{grant("Patient/pat-0", orgA, "TREAT"), objection}, false},
		{"Part 2, two grants: another org's root deny is no objection", part2, treat,
			[]Consent{grant("Patient/pat-0", orgA, "TREAT"), grant("Patient/pat-0", "Organization/org-b", "TREAT")}, true},
		{"Part 2, break-the-glass", part2, Caller{Org: orgA, Purposes: []string{"ETREAT"}, BreakGlass: "overdose", TTL: 15 * time.Minute}, nil, true},
		{"Part 2, break-the-glass in a 2h token", part2, Caller{Org: orgA, Purposes: []string{"ETREAT"}, BreakGlass: "overdose", TTL: 2 * time.Hour}, nil, false},
		{"Part 2, break-the-glass reason too short", part2, Caller{Org: orgA, Purposes: []string{"ETREAT"}, BreakGlass: " x ", TTL: time.Hour}, nil, false},
		{"Part 2, break-the-glass with treatment", part2, Caller{Org: orgA, Purposes: []string{"ETREAT", "TREAT"}, BreakGlass: "overdose", TTL: time.Hour}, nil, false},
		{"Part 2, ETREAT without a claim", part2, Caller{Org: orgA, Purposes: []string{"ETREAT"}, TTL: time.Hour}, nil, false},
		{"mental health for treatment", mh, treat, nil, true},
		{"mental health without purpose", mh, Caller{Org: orgA}, nil, false},
		{"mental health for payment", mh, Caller{Org: orgA, Purposes: []string{"HPAYMT"}}, nil, false},
		{"mental health for marketing with a grant", mh, Caller{Org: orgA, Purposes: []string{"HMARKT"}}, []Consent{grant("Patient/pat-2", orgA, "HMARKT")}, true},
		{"mental health, blanket permit for treatment", mh, treat, []Consent{blanketMH}, true},
		{"patient-bound token, another patient", plain, Caller{Org: orgA, Purposes: []string{"TREAT"}, Patient: "pat-0"}, nil, false},
		{"patient-bound token, own ordinary data", plain, Caller{Org: orgA, Purposes: []string{"TREAT"}, Patient: "pat-1"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := MayDisclose(tc.r, tc.c, tc.consents, now); got != tc.want {
				t.Errorf("MayDisclose(%s) = %v, want %v", tc.r.Ref(), got, tc.want)
			}
		})
	}
}

// TestScanFindsEveryTrace plants a withheld resource in several disguises
// and checks the scan reports each, and nothing in an ordinary answer.
func TestScanFindsEveryTrace(t *testing.T) {
	t.Parallel()
	o := New(ground)
	c := Caller{Org: orgA, Purposes: []string{"HMARKT"}, TTL: time.Hour}
	x := o.Expect(c, nil, now, "Patient/pat-0")
	cond := find(t, "Condition/pat-0-p2-cond")
	if _, ok := x.Forbidden[cond.Ref()]; !ok {
		t.Fatalf("%s is not forbidden to a marketing caller", cond.Ref())
	}
	planted := map[string]string{
		"the resource itself":     string(cond.JSON),
		"its URL in a header":     "Location: http://proxy/fhir/Condition/pat-0-p2-cond/_history/1",
		"its diagnosis code":      `{"code":"F11.20"}`,
		"its wording in a text":   `<div>Opioid dependence, uncomplicated</div>`,
		"the Part 2 program":      `{"display":"Riverside Recovery Center"}`,
		"an SUD code in a reason": `{"text":"see (F10.20)"}`,
	}
	for name, body := range planted {
		if f := x.Scan("body", []byte(body)); len(f) == 0 {
			t.Errorf("%s: no finding in %s", name, body)
		}
	}
	var clean []string
	for _, r := range ground.ByPatient("Patient/pat-1") {
		clean = append(clean, string(r.JSON))
	}
	if f := x.Scan("body", []byte(strings.Join(clean, ","))); len(f) > 0 {
		t.Errorf("ordinary data of pat-1 reported: %+v", f[0])
	}
	if f := x.Scan("body", []byte(`"reference":"Condition/pat-0-p2-cond"`)); len(f) > 0 {
		t.Errorf("a bare reference counts as a leak: %+v", f[0])
	}
	if f := x.Scan("body", []byte(`/Condition/pat-0-p2-cond-x`)); len(f) > 0 {
		t.Errorf("another id's prefix counts as a leak: %+v", f[0])
	}
}

// TestConsentJSONShape checks the stored consent says what the oracle
// evaluates: its period, actors, purposes and nested classes.
func TestConsentJSONShape(t *testing.T) {
	t.Parallel()
	c := grant("Patient/pat-0", orgA, "TREAT")
	c.Root.Children[0].Children = []Provision{{Type: "deny", Classes: []string{"Condition"}}}
	c.Start, c.End = now, now.AddDate(1, 0, 0)
	got := string(c.JSON())
	for _, want := range []string{`"patient":{"reference":"Patient/pat-0"}`, `"reference":{"reference":"Organization/org-a"}`,
		`"code":"TREAT"`, `"class":[{"code":"Condition"`, `"period":{"end":"2027-06-01T12:00:00Z","start":"2026-06-01T12:00:00Z"}`} {
		if !strings.Contains(got, want) {
			t.Errorf("consent JSON lacks %s:\n%s", want, got)
		}
	}
}

func TestParseSeeds(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"3": "1,2,3", "5-7": "5,6,7", "7,19": "7,19", "1-2,9": "1,2,9"} {
		got, err := parseSeeds(in)
		var s []string
		for _, g := range got {
			s = append(s, strconv.FormatInt(g, 10))
		}
		if err != nil || strings.Join(s, ",") != want {
			t.Errorf("parseSeeds(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "5-3", "1-"} {
		if _, err := parseSeeds(bad); err == nil {
			t.Errorf("parseSeeds(%q) accepted", bad)
		}
	}
}

func TestTotalTells(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]bool{
		`{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"search":{"mode":"match"}}]}`:                                        true,
		`{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"search":{"mode":"match"}},{"search":{"mode":"include"}}]}`:          false,
		`{"resourceType":"Bundle","type":"searchset","total":1,"link":[{"relation":"next","url":"x"}],"entry":[{"search":{"mode":"match"}}]}`: true,
		`{"resourceType":"Bundle","type":"searchset","entry":[{"search":{"mode":"match"}}]}`:                                                  false,
		`{"resourceType":"Bundle","type":"history","total":5,"entry":[]}`:                                                                     false,
	} {
		if _, got := totalTells([]byte(body)); got != want {
			t.Errorf("totalTells(%s) = %v, want %v", body, got, want)
		}
	}
}

// TestElementChecks plants the mixed claim of pat-0 as a proxy might
// answer it: whole, with its SUD diagnosis cut out, and with both
// diagnoses dropped; and checks what the scan and Overredacted report to a
// caller who may not see SUD data and to one who may.
func TestElementChecks(t *testing.T) {
	t.Parallel()
	mixed := ground.Mixed()
	if len(mixed) == 0 || mixed[0].Patient != "Patient/pat-0" {
		t.Fatalf("want a mixed claim of pat-0 first, got %d", len(mixed))
	}
	m := mixed[0]
	o := New(ground, mixed...)
	var eob map[string]any
	if err := json.Unmarshal(m.JSON, &eob); err != nil {
		t.Fatal(err)
	}
	delete(eob, "text")
	dx := eob["diagnosis"].([]any)
	eob["diagnosis"] = dx[:1]
	cut, _ := json.Marshal(eob)
	eob["diagnosis"] = []any{}
	blank, _ := json.Marshal(eob)

	marketing := o.Expect(Caller{Org: orgA, Purposes: []string{"HMARKT"}, TTL: time.Hour}, nil, now, m.Patient)
	if f := marketing.Scan("body", m.JSON); len(f) == 0 {
		t.Error("the whole claim, SUD diagnosis included, is no finding for a marketing caller")
	}
	if f := marketing.Scan("body", cut); len(f) > 0 {
		t.Errorf("the claim without its SUD diagnosis is reported: %+v", f[0])
	}
	if f := marketing.Overredacted("body", cut); len(f) > 0 {
		t.Errorf("the claim with its ordinary diagnosis counts as over-redacted: %+v", f[0])
	}
	if f := marketing.Overredacted("body", blank); len(f) == 0 {
		t.Error("the claim without its ordinary diagnosis is not reported")
	}
	if nc, nw := marketing.MixedIn(cut); nc != 1 || nw != 0 {
		t.Errorf("MixedIn for a marketing caller = %d cut, %d whole; want 1, 0", nc, nw)
	}

	consented := o.Expect(Caller{Org: orgA, Purposes: []string{"TREAT"}, TTL: time.Hour},
		[]Consent{grant(m.Patient, orgA, "TREAT")}, now, m.Patient)
	if f := consented.Scan("body", m.JSON); len(f) > 0 {
		t.Errorf("the whole claim is reported to a caller the patient consented to: %+v", f[0])
	}
	if cut, whole := consented.MixedIn(m.JSON); cut != 0 || whole != 1 {
		t.Errorf("MixedIn for a consented caller = %d cut, %d whole; want 0, 1", cut, whole)
	}
	bound := o.Expect(Caller{Org: orgA, Purposes: []string{"TREAT"}, Patient: "pat-1", TTL: time.Hour}, nil, now, "Patient/pat-1")
	if _, ok := bound.Forbidden[m.Ref()]; !ok {
		t.Errorf("%s is not forbidden to a token bound to pat-1", m.Ref())
	}
}

// TestJudgeBranches: the oracle reads a consent's provisions as the policy
// does since QA round 29: a nested provision is an exception to its parent
// only, so a permit under a deny of org-a does not lift a sibling deny,
// however deep it lies; a chain decides by its deepest matching provision.
func TestJudgeBranches(t *testing.T) {
	t.Parallel()
	treat := Caller{Org: orgA, Purposes: []string{"TREAT"}}
	siblings := Consent{ID: "s", Patient: "Patient/pat-0", Root: Provision{Type: "permit", Children: []Provision{
		{Type: "deny", Classes: []string{"Condition"}},
		{Type: "deny", Actors: []string{orgA}, Children: []Provision{{Type: "permit", Purposes: []string{"TREAT"}}}},
	}}}
	if v, _, _ := siblings.judge(treat, "Condition"); v != denies {
		t.Errorf("a sibling deny of Conditions beside org-a's treatment exception: %v, want denies", v)
	}
	if v, _, _ := siblings.judge(treat, "Observation"); v != permits {
		t.Errorf("org-a's treatment exception where no sibling denies: %v, want permits", v)
	}
	chain := grant("Patient/pat-0", orgA, "TREAT")
	chain.Root.Children[0].Children = []Provision{{Type: "deny", Classes: []string{"Condition"}}}
	if v, _, _ := chain.judge(treat, "Condition"); v != denies {
		t.Errorf("the deepest of a chain: %v, want denies", v)
	}
	if v, named, _ := chain.judge(treat, "Observation"); v != permits || !named {
		t.Errorf("the grant of a chain: %v (named %v), want permits, named", v, named)
	}
}

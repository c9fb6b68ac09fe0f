package proxy

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestConsentCodeBySystemOIDWithholds: a consent that denies one code,
// naming the code's system by its OID (as CDA-derived consents do) or in
// another spelling FHIR servers accept, withholds the item a FHIR server
// coded by the system's URL. The policy compared "system|code" exactly,
// so such a deny matched nothing and the F11.20 diagnosis went to the
// recipient (QA round 26, area A).
func TestConsentCodeBySystemOIDWithholds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	raw, err := os.ReadFile("../consent/testdata/part2/deny-code.json")
	if err != nil {
		t.Fatal(err)
	}
	f11 := `{"resourceType":"Condition","id":"c-f11","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	f10 := `{"resourceType":"Condition","id":"c-f10","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F10.20"}]}}`
	for _, system := range []string{
		"urn:oid:2.16.840.1.113883.6.90",
		"2.16.840.1.113883.6.90",
		"https://hl7.org/fhir/sid/icd-10-cm",
		"http://hl7.org/fhir/sid/icd-10-cm/",
		"HTTP://HL7.ORG/fhir/sid/ICD-10-CM",
		"http://hl7.org/fhir/sid/icd-10-cm|2026",
	} {
		c := strings.Replace(string(raw), `"system": "http://hl7.org/fhir/sid/icd-10-cm"`, `"system": "`+system+`"`, 1)
		if c == string(raw) {
			t.Fatal("fixture changed: no ICD-10-CM system to respell")
		}
		resp, out := h.post("/admin/decide", tokAdmin, decideBody("Organization/clinic-a", "TREAT", "", "["+c+"]", f11, f10))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", system, resp.StatusCode, out)
		}
		var got DecideResponse
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 2 {
			t.Fatalf("%s: %s", system, out)
		}
		if got.Items[0].Decision.Effect != "deny" || got.Items[1].Decision.Effect != "permit" {
			t.Errorf("deny of F11.20 under system %q: F11.20 %s, F10.20 %s; want deny, permit",
				system, got.Items[0].Decision.Effect, got.Items[1].Decision.Effect)
		}
	}
}

// TestConsentCodeSpellingAsWrittenStillMatches: an item coded by the OID
// (as a consent naming the OID was written for) is still withheld: the
// consent's code keeps its spelling beside the canonical one.
func TestConsentCodeSpellingAsWrittenStillMatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	raw, err := os.ReadFile("../consent/testdata/part2/deny-code.json")
	if err != nil {
		t.Fatal(err)
	}
	const oid = "urn:oid:2.16.840.1.113883.6.90"
	c := strings.Replace(string(raw), `"system": "http://hl7.org/fhir/sid/icd-10-cm"`, `"system": "`+oid+`"`, 1)
	f11 := `{"resourceType":"Condition","id":"c-f11","subject":{"reference":"Patient/p2"},"code":{"coding":[{"system":"` + oid + `","code":"F11.20"}]}}`
	resp, out := h.post("/admin/decide", tokAdmin, decideBody("Organization/clinic-a", "TREAT", "", "["+c+"]", f11))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	var got DecideResponse
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 1 || got.Items[0].Decision.Effect != "deny" {
		t.Fatalf("F11.20 coded by OID under a deny naming the OID: %s", out)
	}
}

package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestTHOSystemSpellings: a coding of an HL7 Terminology code system the
// default rules name matches them under the URL it had before THO (FHIR
// DSTU2 and STU3 data), its OID, or its THO URL with https, another case or
// a trailing slash; and a NUCC taxonomy code in lower case or under its
// OID. Each labelled nothing (QA round 31, area E's probe): a v3 RoleCode
// RHAT under http://hl7.org/fhir/v3/RoleCode, a service type 105 under
// STU3's http://hl7.org/fhir/service-type.
func TestTHOSystemSpellings(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	sud := labels.Label{System: labels.SystemActCode, Code: "SUD"}
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	coverage := func(system string) string {
		return `{"resourceType":"Coverage","id":"c1","status":"active","beneficiary":{"reference":"Patient/p1"},"payor":[{"reference":"Organization/o1"}],"type":{"coding":[{"system":"` + system + `","code":"SUBPRG"}]}}`
	}
	order := func(system string) string {
		return `{"resourceType":"ServiceRequest","id":"s1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"locationCode":[{"coding":[{"system":"` + system + `","code":"RHAT"}]}]}`
	}
	visit := func(system string) string {
		return `{"resourceType":"Appointment","id":"a1","status":"booked","participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}],"serviceType":[{"coding":[{"system":"` + system + `","code":"105"}]}]}`
	}
	claim := func(system, code string) string {
		return `{"resourceType":"Claim","status":"active","patient":{"reference":"Patient/p1"},"careTeam":[{"sequence":1,"provider":{"reference":"Organization/o1"},"qualification":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}]}`
	}
	for _, c := range []struct {
		name, in string
		want     labels.Label
	}{
		{"ActCode, legacy URL", coverage("http://hl7.org/fhir/v3/ActCode"), sud},
		{"ActCode, OID", coverage("urn:oid:2.16.840.1.113883.5.4"), sud},
		{"ActCode, https and a trailing slash", coverage("https://terminology.hl7.org/CodeSystem/v3-ActCode/"), sud},
		{"RoleCode, legacy URL", order("http://hl7.org/fhir/v3/RoleCode"), sud},
		{"RoleCode, OID", order("2.16.840.1.113883.5.111"), sud},
		{"RoleCode, another case", order("http://terminology.hl7.org/codesystem/v3-rolecode"), sud},
		{"service type, STU3 URL", visit("http://hl7.org/fhir/service-type"), sud},
		{"service type, https", visit("https://terminology.hl7.org/CodeSystem/service-type"), sud},
		{"NUCC, lower case", claim("http://nucc.org/provider-taxonomy", "261qm2800x"), sud},
		{"NUCC, OID", claim("urn:oid:2.16.840.1.113883.6.101", "2084P0800X"), mh},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !r.Labels.Has(c.want) {
			t.Errorf("%s: labels %v, want %v", c.name, r.Labels, c.want)
		}
	}
	// Another system of the same path elsewhere is not read as THO's.
	if r, err := l.Label([]byte(order("http://example.org/fhir/v3/RoleCode"))); err != nil || r.Labels.Has(sud) {
		t.Errorf("a site's own system: %v %v", r.Labels, err)
	}
}

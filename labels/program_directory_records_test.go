package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// programRecord is a record whose labels depend on the Part 2 program's
// directory, and the program it belongs to ("" for none).
type programRecord struct {
	name, record, program string
}

// checkProgramRecords labels each record alone under a labeller that
// knows one program, reading the targets from entries, and checks that
// exactly the program's records are its own and labelled Part 2.
func checkProgramRecords(t *testing.T, program labels.Program, entries map[string]string, records []programRecord) {
	t.Helper()
	l, err := labels.NewLabeller(labels.Options{CacheSize: 100, Programs: []labels.Program{program}})
	if err != nil {
		t.Fatal(err)
	}
	fetch := newChainFetch(entries).fetch
	for _, tc := range records {
		rs, err := l.LabelAllResolving([][]byte{[]byte(tc.record)}, false, fetch)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if rs[0].Program != tc.program || rs[0].Labels.Has(labels.Part2Policy) != (tc.program != "") {
			t.Errorf("%s: program %q, labels %v; want program %q", tc.name, rs[0].Program, rs[0].Labels, tc.program)
		}
	}
}

// TestContainedRoleAtProgramDepartmentQA42G (QA round 42, helper G, on
// beb1940): an Observation performed by a contained PractitionerRole (#r)
// whose organization is Organization/u1, a department partOf the Part 2
// program p2 (or u2, a unit partOf u1), stayed ordinary: only a contained
// entry naming the program itself labelled its container, and the
// any-depth walk read parents of stored entries alone. Likewise a stored
// Organization whose partOf is a contained department (#d) partOf u1.
// Such a record is the program's; a contained role of an ordinary
// hospital's nested unit stays ordinary.
func TestContainedRoleAtProgramDepartmentQA42G(t *testing.T) {
	t.Parallel()
	contained := func(entry string) string {
		return `{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/p1"},"code":{"text":"bp"},` +
			`"contained":[` + entry + `],"performer":[{"reference":"#r"}]}`
	}
	const zeta = "Zeta House"
	checkProgramRecords(t, labels.Program{Name: zeta, References: []string{"Organization/p2"}}, map[string]string{
		"Organization/u1":      `{"resourceType":"Organization","id":"u1","partOf":{"reference":"Organization/p2"}}`,
		"Organization/u2":      `{"resourceType":"Organization","id":"u2","partOf":{"reference":"Organization/u1"}}`,
		"Organization/u3":      `{"resourceType":"Organization","id":"u3","contained":[{"resourceType":"Organization","id":"d","partOf":{"reference":"Organization/u1"}}],"partOf":{"reference":"#d"}}`,
		"PractitionerRole/r3":  `{"resourceType":"PractitionerRole","id":"r3","organization":{"reference":"Organization/u3"}}`,
		"Organization/h2":      `{"resourceType":"Organization","id":"h2","partOf":{"reference":"Organization/h1"}}`,
		"Organization/h1":      `{"resourceType":"Organization","id":"h1","name":"General"}`,
		"Location/l1":          `{"resourceType":"Location","id":"l1","managingOrganization":{"reference":"Organization/u1"}}`,
		"PractitionerRole/r9":  `{"resourceType":"PractitionerRole","id":"r9","organization":{"reference":"Organization/h2"}}`,
		"Organization/general": `{"resourceType":"Organization","id":"general"}`,
	}, []programRecord{
		{"contained role at the department", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/u1"}}`), zeta},
		{"contained role at a unit two hops down", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/u2"}}`), zeta},
		{"contained role at the program's site", contained(`{"resourceType":"PractitionerRole","id":"r","location":[{"reference":"Location/l1"}]}`), zeta},
		{"contained unit partOf the department", contained(`{"resourceType":"Organization","id":"r","partOf":{"reference":"Organization/u1"}}`), zeta},
		{"role at an entry whose parent is contained", string(performedBy("PractitionerRole/r3")), zeta},
		{"contained role at an ordinary hospital's unit", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/h2"}}`), ""},
		{"contained role at an ordinary hospital", contained(`{"resourceType":"PractitionerRole","id":"r","organization":{"reference":"Organization/general"}}`), ""},
		{"role at an ordinary hospital's unit", string(performedBy("PractitionerRole/r9")), ""},
	})
}

// TestRoleOfProgramServiceQA42G (QA round 42, helper G, on beb1940): a
// PractitionerRole whose healthcareService is the program's
// HealthcareService (providedBy Organization/p2) is the program's role,
// as one whose organization or location is the program's; an Observation
// it performed stayed ordinary (the role's healthcareService was no parent
// link). A role at an ordinary hospital's service stays ordinary.
func TestRoleOfProgramServiceQA42G(t *testing.T) {
	t.Parallel()
	checkProgramRecords(t, labels.Program{Name: "Zeta House", References: []string{"Organization/p2"}}, map[string]string{
		"HealthcareService/hs": `{"resourceType":"HealthcareService","id":"hs","providedBy":{"reference":"Organization/p2"}}`,
		"PractitionerRole/rh":  `{"resourceType":"PractitionerRole","id":"rh","practitioner":{"reference":"Practitioner/d1"},"healthcareService":[{"reference":"HealthcareService/hs"}]}`,
		"HealthcareService/h9": `{"resourceType":"HealthcareService","id":"h9","providedBy":{"reference":"Organization/general"}}`,
		"PractitionerRole/r9":  `{"resourceType":"PractitionerRole","id":"r9","practitioner":{"reference":"Practitioner/d1"},"healthcareService":[{"reference":"HealthcareService/h9"}]}`,
	}, []programRecord{
		{"role at the program's service", string(performedBy("PractitionerRole/rh")), "Zeta House"},
		{"role at an ordinary hospital's service", string(performedBy("PractitionerRole/r9")), ""},
	})
}

// TestProgramEntryByItsOwnIdentifierQA42A (QA round 42, helper A, on
// bcfa337 and dea38b1): the Part 2 program's Organization as the server
// stores it, Organization/x, carries the program's NPI, which the site
// configured (deploy/ds4p.yaml names the program by reference and NPI; a
// site may name it by NPI alone). labels/README says an entry naming "the
// program's NPI" stands for it, but only a contained copy's identifier
// was read: Organization/x stood for nothing, and an Observation it
// performed stayed ordinary. An entry's own top-level identifier now
// counts; another NPI, or the number under another system, does not.
func TestProgramEntryByItsOwnIdentifierQA42A(t *testing.T) {
	t.Parallel()
	const rr = "Riverside Recovery"
	checkProgramRecords(t, labels.Program{Name: rr, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}}, map[string]string{
		"Organization/x":     `{"resourceType":"Organization","id":"x","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}]}`,
		"Organization/one":   `{"resourceType":"Organization","id":"one","identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}`,
		"Organization/other": `{"resourceType":"Organization","id":"other","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`,
		"Location/l1":        `{"resourceType":"Location","id":"l1","identifier":[{"system":"urn:x","value":"1847002312"}]}`,
	}, []programRecord{
		{"identifier list", string(performedBy("Organization/x")), rr},
		{"one identifier", string(performedBy("Organization/one")), rr},
		{"another NPI", string(performedBy("Organization/other")), ""},
		{"the number under another system", string(performedBy("Location/l1")), ""},
	})
}

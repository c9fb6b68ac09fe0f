package labels_test

import (
	"encoding/base64"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestAttachedProgramDocumentQA32A: a document in an attachment that names
// a Part 2 program (its custodian, author or a managing organization, by
// reference or by the program's NPI) is the program's document. An
// ordinary hospital's DocumentReference holding the program's discharge
// summary, as FHIR JSON, FHIR XML or C-CDA, was ordinary: its codes were
// read (859828a), its source was not, and a document without SUD codes
// told org-b that the patient was treated by the program (42 CFR 2.13(c)).
func TestAttachedProgramDocumentQA32A(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{Name: "clinic",
		References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}}}})
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	docRef := func(ct, doc string) string {
		return `{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"custodian":{"reference":"Organization/h1"},"content":[{"attachment":{"contentType":"` + ct + `","data":"` + b64(doc) + `"}}]}`
	}
	for _, c := range []struct {
		name, in string
		want     bool
	}{
		{"FHIR JSON, custodian by reference", docRef("application/fhir+json", `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","status":"final","type":{"text":"discharge summary"},"custodian":{"reference":"Organization/p2"},"title":"t","date":"2026-01-01","author":[{"display":"x"}]}}]}`), true},
		{"FHIR JSON, author by NPI", docRef("application/json", `{"resourceType":"Composition","author":[{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}]}`), true},
		{"FHIR XML, custodian by reference", docRef("application/fhir+xml", `<Composition xmlns="http://hl7.org/fhir"><custodian><reference value="Organization/p2"/></custodian></Composition>`), true},
		{"FHIR XML, author by NPI", docRef("application/fhir+xml", `<Composition xmlns="http://hl7.org/fhir"><author><identifier><system value="http://hl7.org/fhir/sid/us-npi"/><value value="1847002312"/></identifier></author></Composition>`), true},
		{"C-CDA, custodian by NPI", docRef("application/xml", `<ClinicalDocument xmlns="urn:hl7-org:v3"><custodian><assignedCustodian><representedCustodianOrganization><id root="2.16.840.1.113883.4.6" extension="1847002312"/></representedCustodianOrganization></assignedCustodian></custodian></ClinicalDocument>`), true},
		{"a Binary of the program's C-CDA", `{"resourceType":"Binary","id":"b1","contentType":"text/xml","data":"` + b64(`<ClinicalDocument><author><assignedAuthor><id root="2.16.840.1.113883.4.6" extension="1847002312"/></assignedAuthor></author></ClinicalDocument>`) + `"}`, true},
		{"another hospital's document", docRef("application/fhir+json", `{"resourceType":"Composition","custodian":{"reference":"Organization/h1"},"author":[{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1111111112"}}]}`), false},
		{"C-CDA of another NPI", docRef("application/xml", `<ClinicalDocument><id root="2.16.840.1.113883.4.6" extension="1111111112"/></ClinicalDocument>`), false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || (r.Program == "clinic") != c.want || r.Labels.Has(labels.Part2Policy) != c.want {
			t.Errorf("%s: program %q, labels %v, %v; want the program's %v", c.name, r.Program, r.Labels, err, c.want)
		}
	}
}

package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestReportedAndR5SourceMembersQA40E: the members by which a record says
// who reported it or who grants, receives or controls it name its source
// as performer and recorder do. A MedicationRequest the Part 2 program
// reported (R4 reportedReference: "the source of the report"), an R5
// Procedure it reported, an R5 Consent whose grantor, grantee, manager or
// controller is the program (R4's organization, performer and provision
// actors already are), an R5 Task asking the program to perform
// (requestedPerformer), an R5 CommunicationRequest whose information the
// program provides and a Contract it signed were ordinary: the fact of
// treatment by the program went out unlabelled (42 CFR 2.13(c)).
func TestReportedAndR5SourceMembersQA40E(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "clinic", References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	const p2 = `{"reference":"Organization/p2"}`
	const npi = `{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}}`
	const subj = `"subject":{"reference":"Patient/p1"}`
	for name, in := range map[string]string{
		"R4 MedicationRequest reportedReference":      `{"resourceType":"MedicationRequest",` + subj + `,"reportedReference":` + p2 + `}`,
		"R5 Procedure reportedReference by NPI":       `{"resourceType":"Procedure",` + subj + `,"reportedReference":` + npi + `}`,
		"R5 NutritionIntake reportedReference":        `{"resourceType":"NutritionIntake",` + subj + `,"reportedReference":` + p2 + `}`,
		"R5 Consent grantor":                          `{"resourceType":"Consent",` + subj + `,"grantor":[` + p2 + `]}`,
		"R5 Consent grantee":                          `{"resourceType":"Consent",` + subj + `,"grantee":[` + p2 + `]}`,
		"R5 Consent manager":                          `{"resourceType":"Consent",` + subj + `,"manager":[` + p2 + `]}`,
		"R5 Consent controller":                       `{"resourceType":"Consent",` + subj + `,"controller":[` + p2 + `]}`,
		"R5 Task requestedPerformer":                  `{"resourceType":"Task","for":{"reference":"Patient/p1"},"requestedPerformer":[{"reference":` + p2 + `}]}`,
		"R5 CommunicationRequest informationProvider": `{"resourceType":"CommunicationRequest",` + subj + `,"informationProvider":[` + p2 + `]}`,
		"Contract signer":                             `{"resourceType":"Contract","subject":[{"reference":"Patient/p1"}],"signer":[{"type":{"code":"SELF"},"party":` + p2 + `}]}`,
	} {
		r, err := l.Label([]byte(in))
		if err != nil || r.Program != "clinic" || !r.Labels.Has(labels.Part2Policy) || !r.Labels.Has(labels.NoRedisclosure) {
			t.Errorf("%s: program %q, labels %v, %v; want the program's record", name, r.Program, r.Labels, err)
		}
	}
	// Another organisation in the same members makes no Part 2 record.
	for name, in := range map[string]string{
		"reportedReference of another": `{"resourceType":"MedicationRequest",` + subj + `,"reportedReference":{"reference":"Organization/gh"}}`,
		"grantee of another":           `{"resourceType":"Consent",` + subj + `,"grantee":[{"reference":"Organization/gh"}]}`,
	} {
		if r, err := l.Label([]byte(in)); err != nil || r.Program != "" || r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%s: program %q, labels %v, %v", name, r.Program, r.Labels, err)
		}
	}
}

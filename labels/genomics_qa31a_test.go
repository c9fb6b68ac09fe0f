package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestGenomicsGDISQA31A: HL7's Genomics Reporting IG marks its genomic
// reports and observations with the category Genetics (v2-0074 GE) and
// the LOINC codes 51969-4 Genetic analysis report, 81247-9 Master HL7
// genetic variant reporting panel and 69548-6 Genetic variant
// assessment. A genetic test's result or order is genetic information
// (GINA, state genetic privacy laws: the policy's GDIS topic), yet such a
// variant or report was ordinary and went to a payer. A definition of no
// patient (Questionnaire, ObservationDefinition) stays ordinary, and so
// does an ordinary laboratory result.
func TestGenomicsGDISQA31A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	gdis := labels.Label{System: labels.SystemActCode, Code: "GDIS"}
	const ge = `"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"GE","display":"Genetics"}]}]`
	const lab = `"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}]`
	loinc := func(code string) string {
		return `"code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]}`
	}
	const subj = `"subject":{"reference":"Patient/p1"}`
	for _, c := range []struct {
		name, in string
		gdis     bool
	}{
		{"variant by category", `{"resourceType":"Observation","status":"final",` + ge + `,` + loinc("48018-6") + `,` + subj + `}`, true},
		{"variant by code", `{"resourceType":"Observation","status":"final",` + lab + `,` + loinc("69548-6") + `,` + subj + `}`, true},
		{"genomics report", `{"resourceType":"DiagnosticReport","status":"final",` + lab + `,` + loinc("51969-4") + `,` + subj + `}`, true},
		{"master panel", `{"resourceType":"DiagnosticReport","status":"final",` + ge + `,` + loinc("81247-9") + `,` + subj + `}`, true},
		{"genetic test order", `{"resourceType":"ServiceRequest","status":"active","intent":"order",` + ge + `,` + loinc("51969-4") + `,` + subj + `}`, true},
		{"genetic report document", `{"resourceType":"DocumentReference","status":"current","type":{"coding":[{"system":"http://loinc.org","code":"51969-4"}]},` + subj + `,"content":[{"attachment":{"url":"Binary/b"}}]}`, true},
		{"ordinary lab", `{"resourceType":"Observation","status":"final",` + lab + `,` + loinc("2345-7") + `,` + subj + `}`, false},
		{"questionnaire", `{"resourceType":"Questionnaire","status":"active","code":[{"system":"http://loinc.org","code":"81247-9"}]}`, false},
		{"observation definition", `{"resourceType":"ObservationDefinition",` + ge + `,` + loinc("69548-6") + `}`, false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(gdis) != c.gdis {
			t.Errorf("%s: labels %v, %v; want GDIS %v", c.name, r.Labels, err, c.gdis)
		}
	}
}

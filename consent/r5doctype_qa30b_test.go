package consent

import (
	"slices"
	"strings"
	"testing"
)

// TestR5DocumentTypeQA30B: an R5 provision's resourceType and documentType
// are two criteria, both of which must hold; R4's class is one list. How
// each pair reads (QA round 30, area B).
func TestR5DocumentTypeQA30B(t *testing.T) {
	t.Parallel()
	const tmpl = `{"resourceType":"Consent","id":"r","status":"active","subject":{"reference":"Patient/p1"},"date":"2026-01-01","decision":"permit",
	 "provision":[{"actor":[{"reference":{"reference":"Organization/org-b"}}]CRITERIA}]}`
	const rt = "http://hl7.org/fhir/resource-types"
	untestable := []string{"x-ds4p/resourceType-and-documentType"}
	for _, tt := range []struct {
		name, criteria string
		classes, codes []string
	}{
		{"resource types", `,"resourceType":[{"system":"` + rt + `","code":"Observation"}]`, []string{"Observation"}, nil},
		{"document types of resource types", `,"documentType":[{"system":"` + rt + `","code":"DocumentReference"}]`, []string{"DocumentReference"}, nil},
		{"both, of resource types", `,"resourceType":[{"system":"` + rt + `","code":"Observation"},{"system":"` + rt + `","code":"Condition"}],"documentType":[{"system":"` + rt + `","code":"Condition"}]`, []string{"Condition"}, nil},
		{"both, no type in common", `,"resourceType":[{"system":"` + rt + `","code":"Observation"}],"documentType":[{"system":"` + rt + `","code":"Condition"}]`, untestable, nil},
		{"a LOINC document type", `,"documentType":[{"system":"http://loinc.org","code":"11488-4"}]`, nil, []string{"http://loinc.org|11488-4"}},
		{"a resource type and a LOINC document type", `,"resourceType":[{"system":"` + rt + `","code":"DocumentReference"}],"documentType":[{"system":"http://loinc.org","code":"11488-4"}]`, []string{"DocumentReference"}, []string{"http://loinc.org|11488-4"}},
		{"a LOINC document type beside a code", `,"documentType":[{"system":"http://loinc.org","code":"11488-4"}],"code":[{"coding":[{"system":"http://snomed.info/sct","code":"1"}]}]`, untestable, []string{"http://snomed.info/sct|1"}},
		{"a LOINC and a MIME document type", `,"documentType":[{"system":"http://loinc.org","code":"11488-4"},{"system":"urn:ietf:bcp:13","code":"application/pdf"}]`, untestable, nil},
	} {
		n, err := Normalize(Record{ID: "r", Version: 1, JSON: []byte(strings.Replace(tmpl, "CRITERIA", tt.criteria, 1))})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		r := n.Rules[len(n.Rules)-1]
		c := r.Conditions[len(r.Conditions)-1]
		if r.Type != "deny" || !slices.Equal(c.Classes, append([]string{}, tt.classes...)) || !slices.Equal(c.Codes, append([]string{}, tt.codes...)) {
			t.Errorf("%s: %s classes %v codes %v, want deny classes %v codes %v", tt.name, r.Type, c.Classes, c.Codes, tt.classes, tt.codes)
		}
	}
	if _, err := Validate([]byte(strings.Replace(tmpl, "CRITERIA", `,"documentType":["DocumentReference"]`, 1))); err == nil {
		t.Error("a documentType that is not a Coding was accepted")
	}
}

package labels_test

import (
	"fmt"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

func ExampleLabeller_Label() {
	l := labels.Default()
	resource := []byte(`{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p1"},"onsetAge":{"value":60.40}}`)

	r, err := l.Label(resource)
	if err != nil {
		fmt.Println(err)
		return
	}
	conf, _ := r.Labels.Confidentiality()
	fmt.Println(r.Type, r.ID, r.Patient, conf, r.Changed)
	for _, why := range r.Reasons {
		fmt.Println(why.Label.Code, why.Rule, why.Matched, why.Path)
	}

	edits, err := l.Edits(resource, r)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := fjson.Apply(nil, resource, edits)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// Condition c1 Patient/p1 R true
	// OPIOIDUD sud-icd10cm-opioid http://hl7.org/fhir/sid/icd-10-cm|F11.20 code.coding[0]
	// SUD sud-icd10cm http://hl7.org/fhir/sid/icd-10-cm|F11.20 code.coding[0]
	// R sud-icd10cm http://hl7.org/fhir/sid/icd-10-cm|F11.20 code.coding[0]
	// {"resourceType":"Condition","id":"c1","meta":{"security":[{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-classifier","valueReference":{"display":"ds4p labeller"}}],"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPIOIDUD"},{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-classifier","valueReference":{"display":"ds4p labeller"}}],"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-classifier","valueReference":{"display":"ds4p labeller"}}],"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p1"},"onsetAge":{"value":60.40}}
}

func ExampleSet_Confidentiality() {
	s := labels.NewSet(
		labels.Label{System: labels.LegacyConfidentiality, Code: "N"},
		labels.Label{System: labels.SystemConfidentiality, Code: "V"},
		labels.SUD,
	)
	code, ok := s.Confidentiality()
	fmt.Println(code, ok)
	fmt.Println(s.Key())
	// Output:
	// V true
	// http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD,http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N,http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V
}

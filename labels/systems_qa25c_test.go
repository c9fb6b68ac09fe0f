package labels_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestClinicalSystemSpellingsQA25C: a sensitive code under a spelling of its
// system that a FHIR server accepts and an EHR writes (HCPCS under CMS's
// current page, which SHIFT's own sample data uses, or https; a known
// system with "|version", "www.", another case; a SNOMED CT edition URI;
// an HCPCS or LOINC code in lower case) is labelled as under the
// canonical URL: read as another system, the item would be disclosed as
// ordinary data.
func TestClinicalSystemSpellingsQA25C(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	coded := func(typ, system, code string) string {
		return `{"resourceType":"` + typ + `","code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
	}
	sex := labels.Label{System: labels.SystemActCode, Code: "SEX"}
	sud := labels.SUD
	mh := labels.Label{System: labels.SystemActCode, Code: "MH"}
	for _, c := range []struct {
		name, in string
		want     labels.Label
	}{
		{"HCPCS, CMS's current page", coded("Procedure", "https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system", "S2260"), sex},
		{"HCPCS https", coded("Procedure", "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "S2260"), sex},
		{"HCPCS OID", coded("Procedure", "urn:oid:2.16.840.1.113883.6.285", "S2260"), sex},
		{"HCPCS Level II OID", coded("Procedure", "2.16.840.1.113883.6.14", "S2260"), sex},
		{"HCPCS code in lower case", coded("Procedure", "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "s2260"), sex},
		{"ICD-10-CM with |version", coded("Condition", "http://hl7.org/fhir/sid/icd-10-cm|2023", "F11.20"), sud},
		{"ICD-10-CM with www.", coded("Condition", "http://www.hl7.org/fhir/sid/icd-10-cm", "F11.20"), sud},
		{"ICD-10-CM in upper case", coded("Condition", "HTTP://HL7.ORG/fhir/sid/ICD-10-CM", "F11.20"), sud},
		{"SNOMED CT edition URI", coded("Condition", "http://snomed.info/sct/731000124108", "5602001"), sud},
		{"SNOMED CT version URI", coded("Condition", "http://snomed.info/sct/731000124108/version/20230301", "5602001"), sud},
		{"LOINC with |version", coded("Observation", "http://loinc.org|2.76", "44249-1"), mh},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || !r.Labels.Has(c.want) || !r.Labels.Has(labels.Restricted) {
			t.Errorf("%s: labels %v, %v; want %s and R", c.name, r.Labels, err, c.want.Code)
		}
	}
	// Other systems stay exact: a local code system's codes may differ by case.
	local, err := labels.New(labels.Rule{ID: "local", System: "http://example.org/cs", Codes: []string{"Ab"}, Labels: []labels.Label{labels.SUD}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := local.Label([]byte(coded("Condition", "http://example.org/cs", "AB"))); len(r.Labels) != 0 {
		t.Errorf("local system matched another case: %v", r.Labels)
	}
	// SHIFT's sample D&C procedure is coded S2260 under CMS's current URL
	// (and CPT, which ds4p does not ship).
	b, err := os.ReadFile(shiftDemo + "/1Bsample.json")
	if err != nil {
		t.Skip(shiftDemo + " is absent")
	}
	var bundle struct {
		Entry []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range bundle.Entry {
		if e.Resource["id"] != "MonicaRambeauDandCProcedure" {
			continue
		}
		found = true
		delete(e.Resource, "meta")
		rb, _ := json.Marshal(e.Resource)
		if r, err := l.Label(rb); err != nil || !r.Labels.Has(sex) || !r.Labels.Has(labels.Restricted) {
			t.Errorf("SHIFT's D&C procedure: labels %v, %v; want SEX and R", r.Labels, err)
		}
	}
	if !found {
		t.Fatal("SHIFT's sample 1B lacks MonicaRambeauDandCProcedure")
	}
}

// TestICD10WHOCodingsQA25C: a diagnosis coded under ICD-10's URL (WHO
// data, or ICD-10-CM codes an EHR files there) matches the ICD-10-CM
// rules too: only SUD had an ICD-10 rule, so HIV B20, depression F32.1,
// syphilis A53.9 or an opioid dependence's OPIOIDUD coded so were
// ordinary or under-labelled.
func TestICD10WHOCodingsQA25C(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	for code, want := range map[string]string{"B20": "HIV", "F32.1": "MH", "A53.9": "STD", "F11.2": "OPIOIDUD", "T74.1": "SDV"} {
		for _, system := range []string{labels.SystemICD10, "urn:oid:2.16.840.1.113883.6.3"} {
			r, err := l.Label([]byte(`{"resourceType":"Condition","code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`))
			if err != nil || !r.Labels.Has(labels.Label{System: labels.SystemActCode, Code: want}) || !r.Labels.Has(labels.Restricted) {
				t.Errorf("%s %s: labels %v, %v; want %s and R", system, code, r.Labels, err, want)
			}
		}
	}
	if r, _ := l.Label([]byte(`{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I10"}]}}`)); len(r.Labels) != 0 {
		t.Errorf("I10: %v", r.Labels)
	}
}

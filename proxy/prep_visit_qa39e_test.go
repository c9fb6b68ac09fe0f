package proxy

import "testing"

// QA round 39, area E: a record of a type or code system few had looked
// at, served as ordinary to a payer and to org-b, whom the patient's
// consent does not permit; org-a, whom it permits, reads it.

func qa39ePrEPEnc(id, code string) string {
	return `{"resourceType":"Encounter","id":"` + id + `","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p1"},` +
		`"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `"}]}]}`
}

// TestPrEPVisitWithheldQA39E: an encounter for HIV PrEP (ICD-10-CM Z29.81).
func TestPrEPVisitWithheldQA39E(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"Encounter/e1": qa39ePrEPEnc("e1", "Z29.81"),
	}, "Encounter/e9|"+qa39ePrEPEnc("e9", "Z29.89"))
}

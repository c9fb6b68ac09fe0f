package proxy

import "testing"

// QA round 33, area B: a pharmacy explanation of benefit for Suboxone or
// Odefsey by its 11-digit NDC (as CARIN Blue Button carries it), a dispense
// of Yeztugo by its NDC and an order of Triumeq by its RxNorm code were
// served to a payer and to org-b as ordinary. Now both get 404; org-a,
// whom the consent permits, reads them; an explanation of benefit for
// fenofibrate is served.
func TestNDCAndNewerArvsWithheldQA33B(t *testing.T) {
	t.Parallel()
	const ndc = "http://hl7.org/fhir/sid/ndc"
	eob := func(id, code string) string {
		return `{"resourceType":"ExplanationOfBenefit","id":"` + id + `","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + ndc + `","code":"` + code + `"}]}}]}`
	}
	dispense := `{"resourceType":"MedicationDispense","id":"md1","status":"completed","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + ndc + `","code":"61958-3401-1"}]}}`
	qa32bWithheld(t, map[string]string{
		"ExplanationOfBenefit/e1": eob("e1", "12496120203"),
		"ExplanationOfBenefit/e2": eob("e2", "61958210101"),
		"MedicationDispense/md1":  dispense,
		"MedicationRequest/mr1":   qa32eMed("MedicationRequest", "mr1", "1546888"),
	}, "ExplanationOfBenefit/e9|"+eob("e9", "82619010101"))
}

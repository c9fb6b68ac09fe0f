package proxy

import "testing"

// QA round 33, area B: an order of mifepristone 200 MG Oral Tablet (RxNorm
// 311704) and a pharmacy claim by its NDC were served to a payer and to
// org-b; now both get 404 and org-a, whom the consent permits, reads them.
func TestMifepristoneWithheldQA33B(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"MedicationRequest/mr1": qa32eMed("MedicationRequest", "mr1", "311704"),
		"Claim/cl1":             qa32bClaimOf("cl1", "http://hl7.org/fhir/sid/ndc", "84670001401"),
	}, "MedicationRequest/mr9|"+qa32eMed("MedicationRequest", "mr9", "904467"))
}

package labels_test

import "testing"

// TestHIVPrEPEncounterQA39E: "PrEP is HIV" (README): its drugs, its HCPCS
// codes and HIV counselling were labelled, but not ICD-10-CM Z29.81
// "Encounter for HIV pre-exposure prophylaxis", the code a PrEP visit's
// reason and its claim's diagnosis carry (the coding guidelines make it
// the first-listed code of such a visit). A PrEP visit went out ordinary
// to a caller denied HIV. Z29.8 and Z29.89 (other prophylaxis) stay
// ordinary.
func TestHIVPrEPEncounterQA39E(t *testing.T) {
	t.Parallel()
	enc := func(code string) string {
		return `{"resourceType":"Encounter","status":"finished","subject":{"reference":"Patient/p1"},"reasonCode":[{"coding":[{"system":"` + qa32bICD10CM + `","code":"` + code + `"}]}]}`
	}
	claim := func(code string) string {
		return `{"resourceType":"Claim","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"` + qa32bICD10CM + `","code":"` + code + `"}]}}]}`
	}
	qa32bCheck(t, []qa32bCase{
		{"PrEP visit", enc("Z29.81"), "HIV"},
		{"PrEP visit, code without its dot", enc("Z2981"), "HIV"},
		{"PrEP claim diagnosis", claim("Z29.81"), "HIV"},
		{"PrEP Condition", qa32bCondition(qa32bICD10CM, "Z29.81"), "HIV"},
		{"other prophylaxis", enc("Z29.89"), ""},
		{"other prophylaxis, parent", enc("Z29.8"), ""},
		{"RSV immunotherapy", enc("Z29.11"), ""},
	})
}

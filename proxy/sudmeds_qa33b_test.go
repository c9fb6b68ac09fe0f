package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 33, area B: a dispense of Zubsolv, an order of Sublocade, a
// statement of disulfiram, an administration of an opioid treatment
// program's methadone concentrate and a contained Vivitrol were served as
// ordinary to a payer and to org-b, whom the patient's Part 2 consent does
// not permit: the drug alone tells the substance use disorder. Now each is
// withheld from both as if absent; org-a, whom the consent permits, reads
// them; a Narcan order, a Butrans patch and a methadone 5 MG tablet (pain)
// stay ordinary.
func TestSUDMedicationsWithheldQA33B(t *testing.T) {
	t.Parallel()
	admin := `{"resourceType":"MedicationAdministration","id":"ma1","status":"completed","subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-01-01","medicationCodeableConcept":{"coding":[{"system":"` + qa32eRx + `","code":"991147"}]}}`
	vivitrol := `{"resourceType":"MedicationRequest","id":"mr4","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"system":"` + qa32eRx + `","code":"637213"}]}}],"medicationReference":{"reference":"#m"}}`
	sensitive := map[string]string{
		"MedicationDispense/md1":       qa32eMed("MedicationDispense", "md1", "1431104"), // Zubsolv
		"MedicationRequest/mr1":        qa32eMed("MedicationRequest", "mr1", "1996189"),  // Sublocade
		"MedicationStatement/ms1":      qa32eMed("MedicationStatement", "ms1", "197623"), // disulfiram
		"MedicationRequest/mr2":        qa32eMed("MedicationRequest", "mr2", "835726"),   // acamprosate
		"MedicationDispense/md2":       qa32eMed("MedicationDispense", "md2", "2639032"), // Brixadi
		"MedicationAdministration/ma1": admin,                                            // methadone concentrate
		"MedicationRequest/mr4":        vivitrol,                                         // Vivitrol, contained
	}
	ordinary := map[string]string{
		"MedicationRequest/mr7": qa32eMed("MedicationRequest", "mr7", "1725059"), // Narcan nasal spray
		"MedicationRequest/mr8": qa32eMed("MedicationRequest", "mr8", "904876"),  // Butrans patch
		"MedicationRequest/mr9": qa32eMed("MedicationRequest", "mr9", "864718"),  // methadone 5 MG tablet
	}
	bodies := map[string]string{}
	for p, b := range sensitive {
		bodies["/fhir/R4/"+p] = b
	}
	for p, b := range ordinary {
		bodies["/fhir/R4/"+p] = b
	}
	h := newHarness(t, routes(bodies))
	for p := range sensitive {
		id := p[strings.Index(p, "/")+1:]
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s for %s: %d %s, want 404", p, tok, resp.StatusCode, body)
			}
		}
		if resp, body := h.get("/fhir/"+p, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
			t.Errorf("%s for org-a: %d %s, want it", p, resp.StatusCode, body)
		}
	}
	for p := range ordinary {
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusOK {
				t.Errorf("%s (ordinary) for %s: %d %s, want it", p, tok, resp.StatusCode, body)
			}
		}
	}
}

package proxy

import "testing"

// QA round 33, area B: a statement of Triumeq or of lenacapavir coded in
// WHO ATC, and a dispense of Suboxone coded so, were served to a payer and
// to org-b as ordinary; now both get 404 and org-a, whom the consent
// permits, reads them. A statin in ATC is served.
func TestATCMedicationsWithheldQA33B(t *testing.T) {
	t.Parallel()
	const atc = "http://www.whocc.no/atc"
	med := func(typ, id, code string) string {
		status := `"status":"active"`
		if typ == "MedicationDispense" {
			status = `"status":"completed"`
		}
		return `{"resourceType":"` + typ + `","id":"` + id + `",` + status + `,"subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + atc + `","code":"` + code + `"}]}}`
	}
	qa32bWithheld(t, map[string]string{
		"MedicationStatement/ms1": med("MedicationStatement", "ms1", "J05AR13"),
		"MedicationStatement/ms2": med("MedicationStatement", "ms2", "J05AX31"),
		"MedicationDispense/md1":  med("MedicationDispense", "md1", "N07BC51"),
		"MedicationDispense/md2":  med("MedicationDispense", "md2", "N07BB01"),
	}, "MedicationStatement/ms9|"+med("MedicationStatement", "ms9", "C10AA01"))
}

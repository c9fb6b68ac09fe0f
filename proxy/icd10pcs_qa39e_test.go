package proxy

import "testing"

// QA round 39, area E: a record of a type or code system few had looked
// at, served as ordinary to a payer and to org-b, whom the patient's
// consent does not permit; org-a, whom it permits, reads it.

func qa39eProc(id, system, code string) string {
	return `{"resourceType":"Procedure","id":"` + id + `","status":"completed","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
}

// TestICD10PCSWithheldQA39E: an inpatient detoxification (ICD-10-PCS
// HZ2ZZZZ) and an electroconvulsive therapy (GZB0ZZZ).
func TestICD10PCSWithheldQA39E(t *testing.T) {
	t.Parallel()
	const pcs = "http://www.cms.gov/Medicare/Coding/ICD10"
	qa32bWithheld(t, map[string]string{
		"Procedure/pr1": qa39eProc("pr1", pcs, "HZ2ZZZZ"),
		"Procedure/pr2": qa39eProc("pr2", pcs, "GZB0ZZZ"),
	}, "Procedure/pr9|"+qa39eProc("pr9", pcs, "0DTJ4ZZ"))
}

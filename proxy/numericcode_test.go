package proxy

import "testing"

// TestNumericCodeWithheld: an HIV diagnosis whose SNOMED code a lax server
// stored as a JSON number went to a payer and to org-b (QA round 32, area
// E's finding); its digits are the code now.
func TestNumericCodeWithheld(t *testing.T) {
	t.Parallel()
	cond := func(id, code string) string {
		return `{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://snomed.info/sct","code":` + code + `}]}}`
	}
	qa32bWithheld(t, map[string]string{"Condition/n1": cond("n1", "86406008")}, "Condition/n9|"+cond("n9", "38341003"))
}

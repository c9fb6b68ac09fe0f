package proxy

import (
	"strings"
	"testing"
)

// QA round 34, area A: a Condition whose subject names p1 and whose
// patient names p2 otherwise than as a Reference with a reference string
// ("patient":"Patient/p2", or a reference that is an object) was read as
// p1's alone, and org-a, whom p1's consent permits, read p2's SUD record
// (200). It is withheld as when both are Reference objects
// (patient_conflict_test.go).
func TestPatientConflictShapesQA34A(t *testing.T) {
	t.Parallel()
	const p2 = `"patient":{"reference":"Patient/p2"}`
	for name, c := range map[string]string{
		"objects":                    conflictSUD,
		"patient a string":           strings.Replace(conflictSUD, p2, `"patient":"Patient/p2"`, 1),
		"patient's reference object": strings.Replace(conflictSUD, p2, `"patient":{"reference":{"reference":"Patient/p2"}}`, 1),
	} {
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Condition/mix2": c}))
		resp, body := h.get("/fhir/Condition/mix2", tokConsented)
		if resp.StatusCode != 404 || strings.Contains(body, conflictMarker) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
}

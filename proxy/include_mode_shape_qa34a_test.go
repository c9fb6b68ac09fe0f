package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 34, area A: an include entry whose search is an array of one
// object rather than the object (invalid FHIR JSON, but a server may send
// it, and other readers take it as that object; entryParts reads it so).
// isInclude read it as no include, so the entry counted as a match: the
// Practitioner only the withheld SUD Condition named (its recorder) stayed
// for org-b, telling what the withheld entry pointed at. It is withheld as
// an orphaned include is (TestOrphanIncludesWithheld).
func TestOrphanIncludeSearchArrayQA34A(t *testing.T) {
	t.Parallel()
	sudAtClinic := strings.Replace(sudCondition, `"subject"`, `"recorder":{"reference":"Practitioner/clinician"},"subject"`, 1)
	const clinician = `{"resourceType":"Practitioner","id":"clinician","name":[{"family":"Program"}]}`
	for name, search := range map[string]string{
		"object":                `{"mode":"include"}`,
		"array of one":          `[{"mode":"include"}]`,
		"array of one, escaped": `[{"m\u006fde":"include"}]`,
	} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			b := bundle(h0base(r), -1, false, sudAtClinic, bpObs)
			b = b[:len(b)-2] + `,{"resource":` + clinician + `,"search":` + search + `}]}`
			fhirJSONHandler(200, b)(w, r)
		})
		resp, body := h.get("/fhir/Condition?subject=p1&_include=Condition:recorder", tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, sudMarker) || strings.Contains(body, "clinician") || !strings.Contains(body, `"id":"bp1"`) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
}

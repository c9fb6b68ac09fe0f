package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 30, area A: records of the rest of the Patient compartment
// that name a Part 2 program, or a sensitive record, in a member ds4p did
// not read. A caller the patient's consent does not permit (tokOther) was
// served them as ordinary data; now they are withheld as if absent (404,
// as a missing resource), and the consented caller still reads them.
func TestCompartmentSweepWithheldQA30A(t *testing.T) {
	t.Parallel()
	const sud = `{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}`
	bodies := map[string]string{
		// An invoice whose line item is an SUD charge.
		"/fhir/R4/Invoice/inv1":   `{"resourceType":"Invoice","id":"inv1","status":"issued","subject":{"reference":"Patient/p1"},"lineItem":[{"sequence":1,"chargeItemReference":{"reference":"ChargeItem/ci1"}}]}`,
		"/fhir/R4/ChargeItem/ci1": `{"resourceType":"ChargeItem","id":"ci1","status":"billable","subject":{"reference":"Patient/p1"},"code":` + sud + `}`,
		// A risk assessment of the SUD condition.
		"/fhir/R4/RiskAssessment/ra1": `{"resourceType":"RiskAssessment","id":"ra1","status":"final","subject":{"reference":"Patient/p1"},"condition":{"reference":"Condition/c1"}}`,
		"/fhir/R4/Condition/c1":       `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":` + sud + `}`,
		// Records of the Part 2 program: a specimen its clinician
		// collected, a charge it performed, an order it dispenses.
		"/fhir/R4/Specimen/sp1":          `{"resourceType":"Specimen","id":"sp1","subject":{"reference":"Patient/p1"},"collection":{"collector":{"reference":"Practitioner/doc"}}}`,
		"/fhir/R4/ChargeItem/ci2":        `{"resourceType":"ChargeItem","id":"ci2","status":"billable","subject":{"reference":"Patient/p1"},"performingOrganization":{"reference":"Organization/p2"}}`,
		"/fhir/R4/MedicationRequest/mr1": `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"dispenseRequest":{"performer":{"reference":"Organization/p2"}}}`,
	}
	h := newHarness(t, routes(bodies), func(_ *Options, d *Deps) {
		l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{
			Name: "clinic", References: []string{"Organization/p2", "Practitioner/doc"},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		d.Labeller = l
	})
	for _, p := range []string{"Invoice/inv1", "RiskAssessment/ra1", "Specimen/sp1", "ChargeItem/ci2", "MedicationRequest/mr1"} {
		resp, body := h.get("/fhir/"+p, tokOther)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s for org-b: %d %s, want 404", p, resp.StatusCode, body)
		}
		resp, body = h.get("/fhir/"+p, tokConsented)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+p[strings.IndexByte(p, '/')+1:]+`"`) {
			t.Errorf("%s for org-a: %d %s, want it", p, resp.StatusCode, body)
		}
	}
}

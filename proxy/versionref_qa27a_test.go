package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A reference naming a version (Condition/c1/_history/1) was labelled from
// the current version of its target only: a Condition whose first version
// was coded opioid dependence and whose current one is not left the order
// that names the first version ordinary, disclosed with its reason to an
// organisation the patient's consent does not permit (QA round 27, area
// A). The named version is read as well and its labels pass on beside the
// current one's; a server that answers another version fails closed.
func TestVersionedReferenceTakesTheVersionsLabels(t *testing.T) {
	t.Parallel()
	const v1 = `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	const v2 = `{"resourceType":"Condition","id":"c1","meta":{"versionId":"2"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J10.1"}]}}`
	order := func(id, ref string) string {
		return `{"resourceType":"MedicationRequest","id":"` + id + `","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"text":"x"},"reasonReference":[{"reference":"` + ref + `","display":"the-reason"}]}`
	}
	bodies := map[string]string{
		"Condition/c1":            v2,
		"Condition/c1/_history/1": v1,
		"Condition/c1/_history/2": v2,
		"Condition/c9":            strings.ReplaceAll(v2, `"c1"`, `"c9"`),
		"Condition/c9/_history/1": strings.ReplaceAll(v2, `"c1"`, `"c9"`), // answers the current version
		"MedicationRequest/old":   order("old", "Condition/c1/_history/1"),
		"MedicationRequest/cur":   order("cur", "Condition/c1/_history/2"),
		"MedicationRequest/odd":   order("odd", "Condition/c9/_history/1"),
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if b, ok := bodies[strings.TrimPrefix(r.URL.Path, "/fhir/R4/")]; ok {
			_, _ = w.Write([]byte(b))
			return
		}
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	})
	for range 2 { // and again: nothing of the first read is taken as known
		if resp, body := h.get("/fhir/MedicationRequest/old", tokOther); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "the-reason") {
			t.Errorf("an order naming the SUD version, to org-b: %d %s", resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/MedicationRequest/cur", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, "the-reason") {
			t.Errorf("an order naming the ordinary version, to org-b: %d %s", resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/MedicationRequest/odd", tokOther); resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "the-reason") {
		t.Errorf("an order whose version the server answers with another: %d %s", resp.StatusCode, body)
	}
}

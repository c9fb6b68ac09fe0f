package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// QA round 28, area B: a resource an element of which was cut kept its
// free text about the whole, which named what was cut: a CarePlan without
// its SUD activity kept the title "methadone maintenance ..." and the
// description and note, a List without its SUD entry the title "Problems
// incl. opioid use", an EOB without its SUD diagnosis the disposition
// "opioid treatment paid", an Observation without its SUD component the
// note about it. Like the narrative, that text goes.
func TestCutResourceLosesItsFreeTextQA28B(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path, body, keep string
	}{
		{"CarePlan/cp1", `{"resourceType":"CarePlan","id":"cp1","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},
 "title":"methadone maintenance and BP","_title":{"id":"t1"},"description":"methadone maintenance plan","note":[{"text":"opioid taper"}],
 "activity":[{"detail":{"status":"in-progress","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"description":"methadone 80mg"}},
  {"detail":{"status":"in-progress","code":{"text":"BP check"}}}]}`, `"BP check"`},
		{"List/l1", `{"resourceType":"List","id":"l1","status":"current","mode":"working","subject":{"reference":"Patient/p1"},
 "title":"Problems incl. opioid use","note":[{"text":"F11.20 added"}],
 "entry":[{"item":{"display":"hypertension"}},{"item":{"display":"opioid dependence"},"flag":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}]}`, `"hypertension"`},
		{"ExplanationOfBenefit/e2", `{"resourceType":"ExplanationOfBenefit","id":"e2","status":"active","use":"claim","outcome":"complete","patient":{"reference":"Patient/p1"},
 "disposition":"opioid treatment paid",
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}]}`, `"I10"`},
		{"Observation/o1", `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"panel"},
 "component":[{` + inlineSUDQA28B + `,"code":{"text":"methadone level"},"valueQuantity":{"value":5}},{"code":{"text":"glucose"},"valueQuantity":{"value":90}}],
 "note":[{"text":"methadone level high"}]}`, `"glucose"`},
	} {
		h := newHarness(t, fhirJSONHandler(200, c.body))
		resp, body := h.get("/fhir/"+c.path, tokOther)
		if resp.StatusCode != 200 || !strings.Contains(body, `"REDACTED"`) || !strings.Contains(body, c.keep) || !json.Valid([]byte(body)) {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		for _, leak := range []string{"methadone", "opioid", "F11.20", `"t1"`} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: the cut resource still says %s: %s", c.path, leak, body)
			}
		}
		// disclosed whole, it keeps its text
		if resp, body := h.get("/fhir/"+c.path, tokConsented); resp.StatusCode != 200 || !strings.Contains(body, "opioid") && !strings.Contains(body, "methadone") {
			t.Errorf("%s consented: %d %s", c.path, resp.StatusCode, body)
		}
	}
}

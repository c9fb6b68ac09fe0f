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

// The server selects on the stored text: List?title=opioid answered the
// List whose SUD entry was cut and whose title (removed from the view,
// above) names it, and not a List titled otherwise, so the match itself
// told what the removed title said; Invoice?totalnet=gt100 likewise told
// the total a cut line item was summed in. A match selected on a member
// removed with a cut is withheld as one selected on the cut element is.
func TestSearchOnRemovedTextOrTotalQA28B(t *testing.T) {
	t.Parallel()
	list := `{"resourceType":"List","id":"l1","status":"current","mode":"working","subject":{"reference":"Patient/p1"},"title":"Problems incl. opioid use",
 "entry":[{"item":{"display":"hypertension"}},{"item":{"display":"opioid dependence"},"flag":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}]}`
	inv := `{"resourceType":"Invoice","id":"i1","status":"issued","subject":{"reference":"Patient/p1"},
 "lineItem":[{"sequence":1,` + inlineSUDQA28B + `,"chargeItemCodeableConcept":{"text":"methadone"}},{"sequence":2,"chargeItemCodeableConcept":{"text":"bp"}}],
 "totalNet":{"value":150,"currency":"USD"}}`
	for _, c := range []struct {
		res, query string
		want       int // matches left for the caller without consent
	}{
		{list, "List?title=opioid", 0},
		{list, "List?patient=p1", 1},
		{inv, "Invoice?totalnet=gt100", 0},
		{inv, "Invoice?patient=p1", 1},
	} {
		h := newHarness(t, fhirJSONHandler(200, searchset(match(c.res))))
		resp, body := h.get("/fhir/"+c.query, tokOther)
		ids, total := searchIDs(t, body)
		if resp.StatusCode != 200 || len(ids) != c.want || total == nil || *total != c.want {
			t.Errorf("%s: %d %v total %v: %s", c.query, resp.StatusCode, ids, total, body)
		}
	}
}

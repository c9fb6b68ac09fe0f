package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 34, area A: without the label-writer role, an update may not
// remove the labels of a stored contained resource, nor an element's
// inline label (TestLabelsBelowMetaStay), also when the stored resource
// writes its contained member, or the label's extension, as one object
// rather than an array of one (invalid FHIR JSON, but a server may store
// it, and the labeller reads it as the array's one element). The guard
// read neither, and org-a's update stripped them; org-b, whose consent
// denies the data, could then read it. An update that keeps them goes.
func TestLabelsBelowMetaStayOneObjectQA34A(t *testing.T) {
	t.Parallel()
	const tokA = "Organization/org-a|TREAT|user/*.*"
	part2 := `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}`
	sud := `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`
	obs := `{"resourceType":"Observation","id":"o1","meta":{"security":[` + sud + `,` + part2 + `]},"status":"final","code":{"text":"opioid screen"}}`
	condition := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"text":"x"},"contained":` + obs + `}`
	ext := `{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":` + part2 + `}`
	claim := `{"resourceType":"Claim","id":"cl1","meta":{"versionId":"1"},"status":"active","use":"claim","patient":{"reference":"Patient/p1"},` +
		`"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"text":"flu"}},{"extension":` + ext + `,"sequence":2,"diagnosisCodeableConcept":{"text":"program intake note"}}]}`
	for _, c := range []struct {
		name, path, stored, body string
		refused                  bool
	}{
		{"contained one object, its labels removed", "Condition/c1", condition,
			strings.Replace(condition, `"meta":{"security":[`+sud+`,`+part2+`]},`, ``, 1), true},
		{"contained one object, labels kept", "Condition/c1", condition,
			strings.Replace(condition, `"code":{"text":"x"}`, `"code":{"text":"y"}`, 1), false},
		{"inline extension one object, removed", "Claim/cl1", claim,
			strings.Replace(claim, `"extension":`+ext+`,`, ``, 1), true},
		{"inline extension one object, kept as an array", "Claim/cl1", claim,
			strings.Replace(strings.Replace(claim, `"extension":`+ext, `"extension":[`+ext+`]`, 1), `"active"`, `"cancelled"`, 1), false},
	} {
		up := newStoreUpstream(map[string]string{c.path: c.stored, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
		h := newHarness(t, up.handler)
		resp, body := h.send(http.MethodPut, "/fhir/"+c.path, tokA, "application/fhir+json", c.body)
		if c.refused {
			if resp.StatusCode != http.StatusForbidden || up.get(c.path) != c.stored {
				t.Errorf("%s: %d %s, stored %s; want a refusal", c.name, resp.StatusCode, body, up.get(c.path))
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s; want it stored", c.name, resp.StatusCode, body)
		}
	}
}

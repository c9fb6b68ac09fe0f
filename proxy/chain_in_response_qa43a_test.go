package proxy

import (
	"strconv"
	"strings"
	"testing"
)

// TestChainInTheResponseFollowedToItsEndQA43A (QA round 43, helper A):
// org-b's Observation?_id=o0&_include:iterate=Observation:derived-from,
// answered with o0 ... o13, each derived from the next and o13 an opioid
// use disorder, gave org-b o0 to o4 (200): labels moved one hop per round
// for 8 rounds and stopped, where GET Observation/o0 alone is withheld
// (the chain is read 8 deep, then refused). Every Observation of the chain
// is SUD now: none goes to org-b.
func TestChainInTheResponseFollowedToItsEndQA43A(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","total":1,"entry":[`)
	for i := range 14 {
		code, ref := `"code":{"text":"note `+strconv.Itoa(i)+`"}`, `,"derivedFrom":[{"reference":"Observation/o`+strconv.Itoa(i+1)+`"}]`
		if i == 13 {
			code, ref = `"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}`, ""
		}
		mode := "include"
		if i == 0 {
			mode = "match"
		} else {
			b.WriteString(",")
		}
		b.WriteString(`{"resource":{"resourceType":"Observation","id":"o` + strconv.Itoa(i) + `","status":"final","subject":{"reference":"Patient/p1"},` + code + ref + `},"search":{"mode":"` + mode + `"}}`)
	}
	b.WriteString(`]}`)
	h := newHarness(t, fhirJSONHandler(200, b.String()))
	resp, body := h.get("/fhir/Observation?_id=o0&_include:iterate=Observation:derived-from", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, `"note `) || strings.Contains(body, "F11.20") {
		t.Errorf("org-b: %d %s; want 200 without any Observation of the chain", resp.StatusCode, body)
	}
}

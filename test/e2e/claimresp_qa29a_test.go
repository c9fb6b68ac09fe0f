package e2e

import (
	"net/http"
	"strings"
	"testing"
)

func init() { register("ClaimResponseCutAsItsClaimQA29A", testClaimResponseCutQA29A) }

// testClaimResponseCutQA29A stores, in Medplum, a claim whose item 1 is
// billed for its SUD diagnosis and the response adjudicating both items,
// and reads the response through the proxy (QA round 29, area A): a
// caller without consent gets item 2's adjudication alone, no trace of
// item 1 and no total, as the claim is disclosed to it; one with consent
// gets it all (the patient is sudPatient, whose consent admits
// orgConsented).
func testClaimResponseCutQA29A(t *testing.T, e *env) {
	claim := `{"resourceType":"Claim","id":"e2e-claim-cr0","status":"active",
	  "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},
	  "use":"claim","patient":{"reference":"` + sudPatient + `"},"created":"2026-01-10","priority":{"coding":[{"code":"normal"}]},
	  "provider":{"reference":"Organization/general-hospital"},"insurance":[{"sequence":1,"focal":true,"coverage":{"display":"Plan"}}],
	  "diagnosis":[
	    {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},
	    {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}
	  ],
	  "item":[
	    {"sequence":1,"diagnosisSequence":[1],"productOrService":{"text":"counselling visit"},"net":{"value":100,"currency":"USD"}},
	    {"sequence":2,"diagnosisSequence":[2],"productOrService":{"text":"office visit"},"net":{"value":50,"currency":"USD"}}
	  ],
	  "total":{"value":150,"currency":"USD"}}`
	resp := `{"resourceType":"ClaimResponse","id":"e2e-claimresp0","status":"active",
	  "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},
	  "use":"claim","patient":{"reference":"` + sudPatient + `"},"created":"2026-01-11","insurer":{"reference":"Organization/general-hospital"},
	  "outcome":"complete","request":{"reference":"Claim/e2e-claim-cr0"},
	  "item":[
	    {"itemSequence":1,"adjudication":[{"category":{"coding":[{"code":"eligible"}]},"amount":{"value":97,"currency":"USD"}}]},
	    {"itemSequence":2,"adjudication":[{"category":{"coding":[{"code":"eligible"}]},"amount":{"value":45,"currency":"USD"}}]}
	  ],
	  "error":[{"itemSequence":1,"code":{"coding":[{"code":"a001"}]}}],
	  "total":[{"category":{"coding":[{"code":"eligible"}]},"amount":{"value":142,"currency":"USD"}}]}`
	e.upstream.Put(t, []byte(claim), []byte(resp))
	r := e.get(t, "/fhir/ClaimResponse/e2e-claimresp0", "other")
	if r.Status != http.StatusOK {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	items, _ := r.json(t)["item"].([]any)
	if len(items) != 1 || !strings.Contains(jsonString(items[0]), `"itemSequence":2`) {
		t.Errorf("items: %s", jsonString(items))
	}
	for _, leak := range []string{`"value":97`, `"total"`, "142", "a001"} {
		if strings.Contains(string(r.Body), leak) {
			t.Errorf("the response holds %s: %s", leak, r.Body)
		}
	}
	r = e.get(t, "/fhir/ClaimResponse/e2e-claimresp0", "consented")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"value":97`) || !strings.Contains(string(r.Body), "142") {
		t.Errorf("consented: %d %s", r.Status, r.Body)
	}
}

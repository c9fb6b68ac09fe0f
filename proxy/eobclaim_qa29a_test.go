package proxy

import (
	"reflect"
	"strings"
	"testing"
)

// QA round 29, area A: an ExplanationOfBenefit with no diagnosis of its
// own, explaining claimQA28B (item 1 billed for its SUD diagnosis), was
// ordinary: a caller the Claim was disclosed to with item 1 cut read in
// the EOB what was paid for item 1, and that something was cut from the
// Claim. Its item 1 now goes as the Claim's does, with the totals.
func TestEOBCutAsItsClaimQA29A(t *testing.T) {
	t.Parallel()
	eob := `{"resourceType":"ExplanationOfBenefit","id":"e9","status":"active","use":"claim","outcome":"complete",
 "patient":{"reference":"Patient/p1"},"claim":{"reference":"Claim/cl1"},
 "item":[{"sequence":1,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]},"adjudication":[{"category":{"text":"benefit"},"amount":{"value":80,"currency":"USD"}}]},
  {"sequence":2,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99214"}]},"adjudication":[{"category":{"text":"benefit"},"amount":{"value":40,"currency":"USD"}}]}],
 "total":[{"category":{"text":"benefit"},"amount":{"value":120,"currency":"USD"}}]}`
	h := newHarness(t, routes(map[string]string{"/fhir/R4/ExplanationOfBenefit/e9": eob, "/fhir/R4/Claim/cl1": claimQA28B}))
	resp, body := h.get("/fhir/ExplanationOfBenefit/e9", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"99213", `"value":80`, `"value":120`} {
		if strings.Contains(body, leak) {
			t.Errorf("the EOB holds %s: %s", leak, body)
		}
	}
	m := decodeQA28B(t, body)
	w := `[{"sequence":2,"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99214"}]},"adjudication":[{"category":{"text":"benefit"},"amount":{"value":40,"currency":"USD"}}]}]`
	if !reflect.DeepEqual(m["item"], jsonQA28B(t, w)) {
		t.Errorf("item: got %v, want %s", m["item"], w)
	}
	if resp, body := h.get("/fhir/ExplanationOfBenefit/e9", tokConsented); resp.StatusCode != 200 || !strings.Contains(body, `"value":80`) {
		t.Errorf("consented: %d %s", resp.StatusCode, body)
	}
}

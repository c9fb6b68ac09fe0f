package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestStoredBundleTagNotACodingQA36I: a stored Bundle's own meta.tag
// labels its entries (bb12b04), and a resource's meta.tag entry that is no
// Coding fails the labelling (0099e04); but a Bundle's meta.tag was read
// without that check, so a collection its EHR tagged R as a
// CodeableConcept, in a nested array, or with a code that is no string,
// went to org-b whole ("Opioid use disorder", 200). It withholds now, as
// the same tag on the Condition does.
func TestStoredBundleTagNotACodingQA36I(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{
		`[{"coding":[` + qa36eR + `]}]`,
		`[[` + qa36eR + `]]`,
		`[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":["R"]}]`,
	} {
		for _, last := range []bool{false, true} {
			doc := qa36eDoc("b1", "collection", `{"tag":`+tag+`}`, last)
			h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": doc}))
			resp, body := h.do(http.MethodGet, "/fhir/Bundle/b1", tokOther, "", "")
			if strings.Contains(body, "Opioid") {
				t.Errorf("tag %s (meta last %v), org-b: %d %s", tag, last, resp.StatusCode, body)
			}
		}
	}
}

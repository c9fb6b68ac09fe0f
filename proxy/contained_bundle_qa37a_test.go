package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestContainedBundleEntryLabelsQA37A (QA round 37, area A, on bb12b04):
// a contained resource is labelled on its own, but a contained Bundle was
// labelled as one resource, by its own meta.security only: the Condition
// in its entry, labelled R in its own meta.security by its EHR and naming
// 'Opioid use disorder' in text alone, went to org-b inside p1's
// Observation (200), where the same Condition contained directly, or in a
// stored Bundle read alone, is withheld; so did one in a contained
// Parameters. Each resource a contained Bundle or Parameters carries (and
// one a Parameters answer's Bundle carries) is now a contained resource of
// its own.
func TestContainedBundleEntryLabelsQA37A(t *testing.T) {
	t.Parallel()
	condR := `{"resourceType":"Condition","id":"c1","meta":{"security":[` + qa36eR + `]},"subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	inner := qa36eBundle("b2", "collection", "", false, condR)
	params := `{"resourceType":"Parameters","parameter":[{"name":"x","resource":` + condR + `}]}`
	for name, bundle := range map[string]string{
		"entry":             inner,
		"nested entry":      qa36eBundle("b3", "collection", "", false, inner),
		"parameters":        params,
		"parameters' entry": `{"resourceType":"Parameters","parameter":[{"name":"x","part":[{"name":"y","resource":` + inner + `}]}]}`,
		"entry's parameter": qa36eBundle("b4", "collection", "", false, params),
	} {
		obs := `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"},"contained":[` + bundle + `]}`
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Observation/o1": obs}))
		resp, body := h.do(http.MethodGet, "/fhir/Observation/o1", tokOther, "", "")
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "Opioid") {
			t.Errorf("%s, org-b: %d %.300s, want 404", name, resp.StatusCode, body)
		}
		resp, body = h.do(http.MethodGet, "/fhir/Observation/o1", tokConsented, "", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") || !json.Valid([]byte(body)) {
			t.Errorf("%s, org-a: %d %.300s, want the Observation", name, resp.StatusCode, body)
		}
	}
}

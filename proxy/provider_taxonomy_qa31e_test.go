package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area E: an explanation of benefit whose only trace of SUD
// care is its care team's NUCC provider taxonomy (261QM2800X, a methadone
// clinic; careTeam.qualification, as CARIN Blue Button codes it), and a
// claim whose only trace of mental health care is its psychiatric
// hospital's taxonomy (283Q00000X), were served whole to a payer and to
// org-b, whom the patient's consent denies; now both are withheld from
// them as if absent, org-a, whom the consent permits, reads them, and the
// methadone clinic's own Organization (directory data) is served to all.
func TestProviderTaxonomyWithheldQA31E(t *testing.T) {
	t.Parallel()
	team := func(code string) string {
		return `"careTeam":[{"sequence":1,"provider":{"reference":"Organization/clinic"},"qualification":{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"` + code + `"}]}}],"item":[{"sequence":1,"careTeamSequence":[1],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]}}]`
	}
	bodies := map[string]string{
		"/fhir/R4/ExplanationOfBenefit/x1": `{"resourceType":"ExplanationOfBenefit","id":"x1","status":"active","outcome":"complete","patient":{"reference":"Patient/p1"},` + team("261QM2800X") + `}`,
		"/fhir/R4/Claim/c1":                `{"resourceType":"Claim","id":"c1","status":"active","patient":{"reference":"Patient/p1"},` + team("283Q00000X") + `}`,
		"/fhir/R4/Organization/clinic":     `{"resourceType":"Organization","id":"clinic","type":[{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"261QM2800X"}]}]}`,
	}
	h := newHarness(t, routes(bodies))
	const tokPayer = "Organization/org-b|HPAYMT|user/*.read"
	for _, p := range []string{"ExplanationOfBenefit/x1", "Claim/c1"} {
		for _, tok := range []string{tokPayer, tokOther} {
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "careTeam") {
				t.Errorf("%s for %s: %d %s, want 404", p, tok, resp.StatusCode, body)
			}
		}
		if resp, body := h.get("/fhir/"+p, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "careTeam") {
			t.Errorf("%s for org-a: %d %s, want it", p, resp.StatusCode, body)
		}
	}
	for _, tok := range []string{tokPayer, tokOther, tokConsented} {
		if resp, body := h.get("/fhir/Organization/clinic", tok); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"clinic"`) {
			t.Errorf("Organization/clinic for %s: %d %s, want it", tok, resp.StatusCode, body)
		}
	}
}

package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 31, area A: an EpisodeOfCare of HL7's type da (Drug and alcohol
// rehabilitation) was served to org-b, whom the patient's consent denies,
// and told it of SUD treatment; now it is withheld as if absent, and org-a,
// whom the consent permits, reads it.
func TestEpisodeTypeSUDWithheldQA31A(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/fhir/R4/EpisodeOfCare/e1": `{"resourceType":"EpisodeOfCare","id":"e1","status":"active","type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/episodeofcare-type","code":"da"}]}],"patient":{"reference":"Patient/p1"}}`,
	}
	h := newHarness(t, routes(bodies))
	if resp, body := h.get("/fhir/EpisodeOfCare/e1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("EpisodeOfCare/e1 for org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/EpisodeOfCare/e1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"e1"`) {
		t.Errorf("EpisodeOfCare/e1 for org-a: %d %s, want it", resp.StatusCode, body)
	}
}

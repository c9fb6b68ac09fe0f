package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestR5ActorWithoutRoleQA30B: R5 makes an actor's role optional
// (Consent.provision.actor.role 0..1). An upstream R5 consent whose
// provision names org-a without a role failed validation (R4 requires the
// role) and was read as a denial of everything for its patient: a patient's
// permit for org-a withheld the SUD condition from org-a, and a patient's
// refusal of org-b withheld it from org-a, whom another consent permits.
// The actor is now read as the party the provision is about; the refusal
// still withholds from org-b (QA round 30, area B).
func TestR5ActorWithoutRoleQA30B(t *testing.T) {
	t.Parallel()
	const r5 = `{"resourceType":"Consent","id":"r5a","meta":{"versionId":"1"},"status":"active","subject":{"reference":"Patient/p1"},"date":"2026-01-01",
	  "regulatoryBasis":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}],
	  "decision":"DECISION",
	  "provision":[{"actor":[{"reference":{"reference":"ORG"}}],"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}`
	permitA := strings.NewReplacer("DECISION", "deny", "ORG", "Organization/org-a").Replace(r5)
	denyB := strings.NewReplacer("DECISION", "permit", "ORG", "Organization/org-b", `"id":"r5a"`, `"id":"r5b"`).Replace(r5)
	r4PermitA := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	for _, tt := range []struct {
		name     string
		consents []string
		caller   string
		want     int
	}{
		{"an R5 permit of org-a without role, org-a", []string{permitA}, tokConsented, http.StatusOK},
		{"an R5 permit of org-a without role, org-b", []string{permitA}, tokOther, http.StatusNotFound},
		{"an R4 permit of org-a and an R5 refusal of org-b without role, org-a", []string{r4PermitA, denyB}, tokConsented, http.StatusOK},
		{"an R4 permit of org-b and an R5 refusal of org-b without role, org-b", []string{upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b"), denyB}, tokOther, http.StatusNotFound},
		{"the R4 permit of org-b alone, org-b", []string{upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b")}, tokOther, http.StatusOK},
	} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
		u.fhir.set(200, tt.consents...)
		if code := u.read(tt.caller); code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.want)
		}
	}
}

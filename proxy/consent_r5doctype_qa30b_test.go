package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestR5DocumentTypeQA30B: an R5 provision's documentType is the type of
// document or information it covers, a criterion beside resourceType that
// must hold too. A documentType of another system than resource or MIME
// types was refused, so an upstream R5 consent naming one was read as a
// denial of everything for its patient; and a resourceType beside a
// documentType made one class list, either of which matched, so a permit
// of org-a's Conditions that were PDFs disclosed every Condition. A
// documentType of another system is now a code of the provision (tested
// against the item's main codes), and a resourceType beside a documentType
// R4's class cannot state with it is read as a criterion ds4p cannot test:
// a deny applies, a permit does not (QA round 30, area B).
func TestR5DocumentTypeQA30B(t *testing.T) {
	t.Parallel()
	const permit = `{"resourceType":"Consent","id":"r5d","meta":{"versionId":"1"},"status":"active","subject":{"reference":"Patient/p1"},"date":"2026-01-01",
	  "regulatoryBasis":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}],
	  "decision":"deny",
	  "provision":[{"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	    "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]CRITERIA}]}`
	const (
		condition = `,"resourceType":[{"system":"http://hl7.org/fhir/resource-types","code":"Condition"}]`
		pdf       = `,"documentType":[{"system":"urn:ietf:bcp:13","code":"application/pdf"}]`
		sudType   = `,"documentType":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]`
		consult   = `,"documentType":[{"system":"http://loinc.org","code":"11488-4"}]`
	)
	for _, tt := range []struct {
		name, criteria string
		want           int
	}{
		{"Conditions", condition, http.StatusOK},
		{"Conditions that are PDFs", condition + pdf, http.StatusNotFound},
		{"documents of the SUD condition's type", sudType, http.StatusOK},
		{"Conditions of the SUD condition's type", condition + sudType, http.StatusOK},
		{"consult notes", consult, http.StatusNotFound},
		{"Conditions, except those of the SUD condition's type", condition + `,"provision":[{` + sudType[1:] + `}]`, http.StatusNotFound},
		{"Conditions, except consult notes", condition + `,"provision":[{` + consult[1:] + `}]`, http.StatusOK},
		{"Conditions, except PDFs", condition + `,"provision":[{` + pdf[1:] + `}]`, http.StatusNotFound},
	} {
		u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
		u.fhir.set(200, strings.Replace(permit, "CRITERIA", tt.criteria, 1))
		if code := u.read(tokConsented); code != tt.want {
			t.Errorf("a permit of org-a for %s: %d, want %d", tt.name, code, tt.want)
		}
	}
}

package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestMatchByDirectoryEntryQA42B (QA round 42, area B): Patient/$match with
// a Patient managed by Organization/u1 (a department partOf the Part 2
// program p2), or treated by its PractitionerRole/r1, answered org-b with
// the patients the server scored on that member (200), which ds4p cuts from
// the program's patients; the same $match naming p2 is refused (QA round
// 35). Refused alike now (403, the same answer), as the body or a
// Parameters' resource, on its own and in a batch; an ordinary
// organisation's $match goes through.
func TestMatchByDirectoryEntryQA42B(t *testing.T) {
	t.Parallel()
	bundle := `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"},"search":{"mode":"match"}}]}`
	var mu sync.Mutex
	reads := map[string]int{}
	inner := qa41iDirectory(bundle, reads, &mu, false)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/HealthcareService/") {
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		inner(w, r)
	}, withProgram)
	tok := "Organization/org-b|TREAT|user/*.cruds"
	want, _ := h.do(http.MethodPost, "/fhir/Patient/$match", tok, "application/fhir+json", `{"resourceType":"Patient","managingOrganization":{"reference":"Organization/p2"}}`)
	if want.StatusCode != http.StatusForbidden {
		t.Fatalf("$match naming the program: %d", want.StatusCode)
	}
	for _, body := range []string{
		`{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/u1"}}`,
		`{"resourceType":"Patient","generalPractitioner":[{"reference":"PractitionerRole/r9"},{"reference":"PractitionerRole/r1"}]}`,
		`{"resourceType":"Patient","extension":[{"url":"http://example.org/treated-at","valueReference":{"reference":"Location/l1"}}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"resource","resource":{"resourceType":"Patient","managingOrganization":{"reference":"Organization/u1"}}},{"name":"onlyCertainMatches","valueBoolean":true}]}`,
	} {
		resp, got := h.do(http.MethodPost, "/fhir/Patient/$match", tok, "application/fhir+json", body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(got, "Part 2 program") || strings.Contains(got, `"p1"`) {
			t.Errorf("%s: %d %s", body, resp.StatusCode, got)
		}
	}
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"POST","url":"Patient/$match"},"resource":{"resourceType":"Patient","managingOrganization":{"reference":"Organization/u1"}}}]}`
	if resp, got := h.do(http.MethodPost, "/fhir", tok, "application/fhir+json", batch); resp.StatusCode != http.StatusForbidden || !strings.Contains(got, "Part 2 program") {
		t.Errorf("in a batch: %d %s", resp.StatusCode, got)
	}
	ordinary := `{"resourceType":"Patient","managingOrganization":{"reference":"Organization/general"},"generalPractitioner":[{"reference":"PractitionerRole/r9"}]}`
	if resp, got := h.do(http.MethodPost, "/fhir/Patient/$match", tok, "application/fhir+json", ordinary); resp.StatusCode != http.StatusOK || !strings.Contains(got, `"p1"`) {
		t.Errorf("ordinary $match: %d %s", resp.StatusCode, got)
	}
}

package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 35 (area F): a $match whose Patient names a Part 2 program is
// refused (8990502), but the check took a resource for a Patient only when
// its resourceType was written "Patient" byte for byte: written with an
// escape ("Pati\u0065nt", which every JSON reader, the server's included,
// reads as Patient), the Patient naming the program as its
// managingOrganization reached the server, which answered the program's
// patients.
func TestMatchByProgramEscapedTypeRefusedQA35F(t *testing.T) {
	t.Parallel()
	const tok = "Organization/org-b|TREAT|user/*.*"
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Organization/p2") {
			fhirJSONHandler(200, `{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
	}, withProgram)
	pat := `{"resourceType":"Pati\u0065nt","managingOrganization":{"reference":"Organization/p2"}}`
	for _, c := range []struct{ name, body string }{
		{"the Patient as the body", pat},
		{"a Parameters' resource", `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":` + pat + `}]}`},
		{"the Parameters' type escaped too", `{"resourceType":"Param\u0065ters","parameter":[{"name":"resource","resource":` + pat + `}]}`},
	} {
		resp, body := h.do(http.MethodPost, "/fhir/Patient/$match", tok, "application/fhir+json", c.body)
		matched := false
		for len(h.seen) > 0 {
			r := <-h.seen
			matched = matched || strings.HasSuffix(r.URL.Path, "/$match")
		}
		if matched || resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: reached the server %v: %d %s, want 403", c.name, matched, resp.StatusCode, body)
		}
	}
}

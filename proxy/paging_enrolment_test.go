package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEverythingSecondPageWithholdsTheProgram: the program's Organization
// on the second page of an enrolled patient's $everything is withheld as it
// is beside the cut Patient on one page
// (TestEverythingOfAnEnrolledPatientWithholdsTheProgram); QA round 19
// found page 2 released "Riverside Recovery", saying what page 1's cut hid.
// The page token carries the cut on; a consented caller's pages keep the
// Organization, and an ordinary organisation on page 2 is not touched.
func TestEverythingSecondPageWithholdsTheProgram(t *testing.T) {
	t.Parallel()
	serve := func(h **harness, org string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			switch {
			case strings.HasSuffix(r.URL.Path, "/Patient/p1"): // the instance, read and decided first
				fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			case strings.HasSuffix(r.URL.Path, "/Organization/"+org): // the Patient's managingOrganization, read (QA round 41, area I)
				fhirJSONHandler(200, `{"resourceType":"Organization","id":"`+org+`"}`)(w, r)
			case r.URL.Query().Get("_getpagesoffset") == "1":
				fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+
					`{"resource":{"resourceType":"Organization","id":"`+org+`","name":"Riverside Recovery"}}]}`)(w, r)
			default:
				fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
					`{"relation":"next","url":"`+(*h).base()+`?_getpages=x1&_getpagesoffset=1"}],"entry":[`+
					`{"resource":{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/`+org+`"}}}]}`)(w, r)
			}
		}
	}
	page2 := func(h *harness, tok string) string {
		t.Helper()
		resp, body := h.get("/fhir/Patient/p1/$everything", tok)
		next := pageLinksOf(t, body)["next"]
		if resp.StatusCode != http.StatusOK || next == "" {
			t.Fatalf("page 1: %d %s", resp.StatusCode, body)
		}
		resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page 2: %d %s", resp.StatusCode, body)
		}
		return body
	}
	var h *harness
	h = newHarness(t, serve(&h, "p2"), withProgram)
	if body := page2(h, tokOther); strings.Contains(body, `"Organization"`) || strings.Contains(body, "Riverside") {
		t.Errorf("caller without consent, page 2: %s", body)
	}
	if body := page2(h, tokConsented); !strings.Contains(body, `"id":"p2"`) {
		t.Errorf("consented caller, page 2: %s", body)
	}
	var other *harness
	other = newHarness(t, serve(&other, "general"), withProgram)
	if body := page2(other, tokOther); !strings.Contains(body, `"id":"general"`) {
		t.Errorf("ordinary organisation, page 2: %s", body)
	}
}

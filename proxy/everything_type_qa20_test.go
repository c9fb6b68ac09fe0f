package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestEverythingWithoutThePatientWithholdsTheProgram: Patient/p1/$everything
// with _type=Organization (or _since after the Patient's last change) holds
// no Patient, so no enrolment cut was seen and the program's Organization
// went to a caller without consent, saying p1 is the program's patient
// (QA round 20, HIGH). A page of $everything without its Patient, and
// without an earlier page's word, withholds the program's directory
// resources, for every caller (nothing on it tells the cut); an ordinary
// organisation stays.
func TestEverythingWithoutThePatientWithholdsTheProgram(t *testing.T) {
	t.Parallel()
	serve := func(org string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Patient/p1") { // the instance, read and decided first
				fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/`+org+`"}}`)(w, r)
				return
			}
			if strings.HasSuffix(r.URL.Path, "/Organization/"+org) { // the Patient's managingOrganization, read (QA round 41, area I)
				fhirJSONHandler(200, `{"resourceType":"Organization","id":"`+org+`"}`)(w, r)
				return
			}
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+
				`{"resource":{"resourceType":"Organization","id":"`+org+`","name":"Riverside Recovery"}}]}`)(w, r)
		}
	}
	for _, q := range []string{"?_type=Organization", "?_since=2099-01-01T00:00:00Z"} {
		h := newHarness(t, serve("p2"), withProgram)
		resp, body := h.get("/fhir/Patient/p1/$everything"+q, tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "Riverside") || strings.Contains(body, `"Organization"`) {
			t.Errorf("%s: caller without consent: %d %s", q, resp.StatusCode, body)
		}
		ordinary := newHarness(t, serve("general"), withProgram)
		if _, body := ordinary.get("/fhir/Patient/p1/$everything"+q, tokOther); !strings.Contains(body, `"id":"general"`) {
			t.Errorf("%s: ordinary organisation: %s", q, body)
		}
	}
}

// TestEverythingLaterPageKeepsTheProgramForTheConsented: a server whose
// next link is Patient/p1/$everything?_offset=1 serves page 2 without the
// Patient; the page token carries that page 1 disclosed the Patient with its
// enrolment, so a consented caller keeps the program's Organization there,
// and a caller without consent does not get it.
func TestEverythingLaterPageKeepsTheProgramForTheConsented(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, enrolledEverything(&h), withProgram)
	for tok, want := range map[string]bool{tokConsented: true, tokOther: false} {
		resp, body := h.get("/fhir/Patient/p1/$everything", tok)
		next := pageLinksOf(t, body)["next"]
		if resp.StatusCode != http.StatusOK || next == "" {
			t.Fatalf("page 1: %d %s", resp.StatusCode, body)
		}
		_, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tok)
		if got := strings.Contains(body, "Riverside"); got != want {
			t.Errorf("consented %v: page 2 %s", want, body)
		}
	}
}

// enrolledEverything is an upstream whose Patient p1 is managed by the
// Part 2 program's Organization p2, and whose p1/$everything pages with
// _offset: page 1 holds the Patient and a next link, page 2 the
// Organization alone.
func enrolledEverything(h **harness) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"): // the instance, read and decided first
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2"}}`)(w, r)
		case r.URL.Query().Get("_offset") == "1":
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+
				`{"resource":{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"}}]}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
				`{"relation":"next","url":"`+(*h).base()+`/Patient/p1/$everything?_count=1&_offset=1"}],"entry":[`+
				`{"resource":{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2"}}}]}`)(w, r)
		}
	}
}

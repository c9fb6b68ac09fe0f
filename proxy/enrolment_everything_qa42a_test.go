package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestEverythingWithholdsTheProgramBesideItsRecordQA42A (QA round 42,
// helper A, next to 2f4441c): Patient/p1/$everything, p1 naming no program
// herself but having an Encounter the program served (at its Organization
// p2, its department u1 or its Location l1). The Encounter is withheld from
// org-b, but the server's $everything lists the entries its records name:
// Organization/p2 ("Zeta House"), the department or the site went to org-b
// (200), telling that p1 was treated there; 2f4441c withheld them only
// beside a Patient whose enrolment member was cut. Withheld now beside any
// of the program's records withheld from the answer; a consented caller
// gets them, and an ordinary hospital's entry stays.
func TestEverythingWithholdsTheProgramBesideItsRecordQA42A(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	entry := func(res string) string { return `{"resource":` + res + `}` }
	for _, tc := range []struct{ name, at, dir string }{
		{"program", `"serviceProvider":{"reference":"Organization/p2"}`, `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`},
		{"department", `"serviceProvider":{"reference":"Organization/u1"}`, `{"resourceType":"Organization","id":"u1","name":"Detox unit","partOf":{"reference":"Organization/p2"}}`},
		{"site", `"location":[{"location":{"reference":"Location/l1"}}]`, `{"resourceType":"Location","id":"l1","name":"Annex","managingOrganization":{"reference":"Organization/p2"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			everything := `{"resourceType":"Bundle","type":"searchset","entry":[` +
				entry(`{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`) + "," +
				entry(`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},`+tc.at+`}`) + "," +
				entry(`{"resourceType":"Observation","id":"o9","status":"final","code":{"text":"blood pressure"},"subject":{"reference":"Patient/p1"}}`) + "," +
				entry(tc.dir) + `]}`
			dir := qa41iDirectory(`{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}`, map[string]int{}, &mu, false)
			h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/$everything") {
					fhirJSONHandler(http.StatusOK, everything)(w, r)
					return
				}
				dir(w, r)
			}, withProgram)
			resp, body := h.get("/fhir/Patient/p1/$everything", tokOther)
			if resp.StatusCode != http.StatusOK || strings.Contains(body, `"e1"`) || strings.Contains(body, tc.dir) ||
				!strings.Contains(body, `"Doe"`) || !strings.Contains(body, "blood pressure") {
				t.Errorf("org-b: %d %s", resp.StatusCode, body)
			}
			resp, body = h.get("/fhir/Patient/p1/$everything", tokConsented)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"e1"`) || !strings.Contains(body, tc.dir) {
				t.Errorf("consented: %d %s", resp.StatusCode, body)
			}
		})
	}
	t.Run("ordinary", func(t *testing.T) {
		t.Parallel()
		general := `{"resourceType":"Organization","id":"general","name":"General Hospital"}`
		everything := `{"resourceType":"Bundle","type":"searchset","entry":[` +
			entry(`{"resourceType":"Patient","id":"p1"}`) + "," +
			entry(`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},"serviceProvider":{"reference":"Organization/general"}}`) + "," +
			entry(general) + `]}`
		dir := qa41iDirectory(`{"resourceType":"Patient","id":"p1"}`, map[string]int{}, &mu, false)
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/$everything") {
				fhirJSONHandler(http.StatusOK, everything)(w, r)
				return
			}
			dir(w, r)
		}, withProgram)
		if resp, body := h.get("/fhir/Patient/p1/$everything", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, general) || !strings.Contains(body, `"e1"`) {
			t.Errorf("org-b, an ordinary hospital: %d %s", resp.StatusCode, body)
		}
	})
}

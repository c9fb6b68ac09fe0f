package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 31, area A: a provider's Schedule and a Slot that name a Part 2
// program outside the Schedule's actor (an extension, meta.source) are
// availability, not the program's records of no patient, which the
// response pipeline withholds from every caller: the program's own
// consented clinicians read 404 for its provider's calendar. A Slot that
// names a patient (here in an extension) is still withheld from a caller
// the patient's consent does not permit.
func TestProviderAvailabilityServedQA31A(t *testing.T) {
	t.Parallel()
	const ext = `"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Location/loc2"}}]`
	bodies := map[string]string{
		"/fhir/R4/Schedule/s1": `{"resourceType":"Schedule","id":"s1",` + ext + `,"actor":[{"reference":"Practitioner/other"}]}`,
		"/fhir/R4/Slot/sl1":    `{"resourceType":"Slot","id":"sl1","schedule":{"reference":"Schedule/s1"},"status":"busy",` + ext + `,"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`,
		"/fhir/R4/Slot/sl2":    `{"resourceType":"Slot","id":"sl2","meta":{"source":"https://ehr.example/p2"},"schedule":{"reference":"Schedule/s1"},"status":"free","start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`,
		"/fhir/R4/Slot/sl3":    `{"resourceType":"Slot","id":"sl3","schedule":{"reference":"Schedule/s1"},"status":"busy","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/event-location","valueReference":{"reference":"Location/loc2"}},{"url":"https://ehr.example/booked-for","valueReference":{"reference":"Patient/p1"}}],"start":"2026-01-01T09:00:00Z","end":"2026-01-01T09:30:00Z"}`,
	}
	h := newHarness(t, routes(bodies), func(_ *Options, d *Deps) {
		l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), Programs: []labels.Program{{
			Name: "clinic", References: []string{"Location/loc2"}, Sources: []string{"https://ehr.example/p2"},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		d.Labeller = l
	})
	for _, p := range []string{"Schedule/s1", "Slot/sl1", "Slot/sl2"} {
		for _, tok := range []string{tokOther, tokConsented} {
			resp, body := h.get("/fhir/"+p, tok)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+p[strings.IndexByte(p, '/')+1:]+`"`) {
				t.Errorf("%s: %d %s, want it", p, resp.StatusCode, body)
			}
		}
	}
	if resp, body := h.get("/fhir/Slot/sl3", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("Slot/sl3 (names the patient) for org-b: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Slot/sl3", tokConsented); resp.StatusCode != http.StatusOK {
		t.Errorf("Slot/sl3 for org-a: %d %s, want it", resp.StatusCode, body)
	}
}

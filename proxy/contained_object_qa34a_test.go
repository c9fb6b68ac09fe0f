package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// QA round 34, area A: a resource whose contained member is one object
// rather than an array of one (invalid FHIR JSON, but a server may store
// it, and other readers take it as the array's one resource). The
// contained Condition carries no code a rule matches, only the SUD label
// its EHR gave it in its own meta.security. Skipped, it was neither
// labelled nor decided on its own, and org-b read the Observation with it
// ("Opioid use disorder"), 200. It is withheld as one in an array is, on a
// read (as missing) and in a search; the consented caller gets it, the
// Observation labelled SUD with it.
func TestContainedObjectLabelledQA34A(t *testing.T) {
	t.Parallel()
	const sec = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}`
	obs := func(member, contained string) string {
		return `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"note"},"focus":[{"reference":"#c1"}],"` + member + `":` + contained + `}`
	}
	const cond = `{"resourceType":"Condition","id":"c1",` + sec + `,"code":{"text":"Opioid use disorder"}}`
	for name, o := range map[string]string{
		"array":                   obs("contained", `[`+cond+`]`),
		"one object":              obs("contained", cond),
		"one object, escaped key": obs(`cont\u0061ined`, cond),
	} {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Observation") {
				fhirJSONHandler(200, bundle(h0base(r), 2, false, o, bpObs))(w, r)
				return
			}
			fhirJSONHandler(200, o)(w, r)
		})
		resp, body := h.get("/fhir/Observation/o1", tokOther)
		if resp.StatusCode != 404 || strings.Contains(body, "Opioid") || body != string(notFoundBody("Observation", "o1")) {
			t.Errorf("%s: read: %d %s; want withheld as missing", name, resp.StatusCode, body)
		}
		resp, body = h.get("/fhir/Observation?subject=p1", tokOther)
		if resp.StatusCode != 200 || strings.Contains(body, "Opioid") || strings.Contains(body, `"o1"`) || !strings.Contains(body, "bp1") {
			t.Errorf("%s: search: %d %s", name, resp.StatusCode, body)
		}
		resp, body = h.get("/fhir/Observation/o1", tokConsented)
		if resp.StatusCode != 200 || !strings.Contains(body, "Opioid") || strings.Count(body, `"code":"SUD"`) < 2 || !json.Valid([]byte(body)) {
			t.Errorf("%s: consented read: %d %s", name, resp.StatusCode, body)
		}
	}
}

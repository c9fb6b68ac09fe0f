package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A resource of one patient that refers to another patient's record (a
// List whose subject is p1 and whose entry is p2's opioid dependence, an
// Observation of p1 whose focus is it) took the other record's SUD labels
// but was decided under p1's consent only: org-a, which p1 lets read and p2
// does not, read p2's diagnosis' reference and display (QA round 27, area
// A). It is each patient's now, decided under each one's consents; p1's own
// record referring to p1's own SUD Condition is read as before.
func TestReferenceToAnotherPatientsRecordTakesTheirConsent(t *testing.T) {
	t.Parallel()
	c2 := strings.Replace(strings.Replace(sudCondition, `"sud1"`, `"sud2"`, 1), "Patient/p1", "Patient/p2", 1)
	bodies := map[string]string{
		"List/lx":        `{"resourceType":"List","id":"lx","status":"current","mode":"working","subject":{"reference":"Patient/p1"},"entry":[{"item":{"reference":"Condition/sud2","display":"secret-two"}}]}`,
		"Observation/ox": `{"resourceType":"Observation","id":"ox","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"x"},"focus":[{"reference":"Condition/sud2","display":"secret-two"}]}`,
		"Observation/o1": `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"x"},"focus":[{"reference":"Condition/sud1","display":"own-sud"}]}`,
		"Condition/sud2": c2,
		"Condition/sud1": sudCondition,
	}
	upstream := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if b, ok := bodies[strings.TrimPrefix(r.URL.Path, "/fhir/R4/")]; ok {
			_, _ = w.Write([]byte(b))
			return
		}
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	}
	h, hb := newHarness(t, upstream), newHarness(t, upstream, withScopeAuth)
	for _, tt := range []struct {
		h           *harness
		path, token string
	}{
		{h, "/fhir/List/lx", tokConsented},
		{h, "/fhir/Observation/ox", tokConsented},
		{hb, "/fhir/List/lx", "p1|patient/*.rs"},
		{hb, "/fhir/Observation/ox", "p1|patient/*.rs"},
	} {
		resp, body := tt.h.get(tt.path, tt.token)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "secret-two") || strings.Contains(body, "sud2") {
			t.Errorf("%s as %s: %d %s", tt.path, tt.token, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != 200 || !strings.Contains(body, "own-sud") {
		t.Errorf("p1's Observation about p1's own SUD Condition: %d %s", resp.StatusCode, body)
	}
}

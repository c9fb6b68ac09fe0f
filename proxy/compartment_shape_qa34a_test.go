package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// QA round 34, area A: a caller bound to a patient's compartment reads no
// resource whose subject (or patient) is written otherwise than as one
// Reference object (invalid FHIR JSON, but a server may store it, and
// other readers show it) and may name a patient the proxy cannot tell: an
// array of one Reference with only a display, an array holding a string,
// a string "Patient/p2", a number. Each was read as naming no patient,
// inside every compartment, and p1's app read p2's record (200), where
// the same subject as one object answers 404 (TestCompartmentUntoldSubject).
// An array naming p1 stays p1's; null names none.
func TestCompartmentUntoldSubjectShapesQA34A(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/Observation/array-display": withSubject(bpObs, `[{"display":"Bob Jones"}]`),
		"/Observation/array-string":  withSubject(bpObs, `["Patient/p2"]`),
		"/Observation/string":        withSubject(bpObs, `"Patient/p2"`),
		"/Observation/number":        withSubject(bpObs, `12`),
		"/Observation/patient":       `{"resourceType":"Observation","id":"x","status":"final","code":{"text":"weight"},"patient":"Patient/p2","valueQuantity":{"value":1}}`,
		"/Observation/array-p1":      withSubject(bpObs, `[{"reference":"Patient/p1"}]`),
		"/Observation/array-group":   withSubject(bpObs, `[{"reference":"Group/g1"}]`),
		"/Observation/null":          withSubject(bpObs, `null`),
	}
	h, _ := qa19IdentitySetup(t, "urn:mrn", bodies, func(url.Values) string { return p1Bundle })
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/fhir/Observation/array-display", http.StatusNotFound},
		{"/fhir/Observation/array-string", http.StatusNotFound},
		{"/fhir/Observation/string", http.StatusNotFound},
		{"/fhir/Observation/number", http.StatusNotFound},
		{"/fhir/Observation/patient", http.StatusNotFound},
		{"/fhir/Observation/array-p1", http.StatusOK},
		{"/fhir/Observation/array-group", http.StatusOK},
		{"/fhir/Observation/null", http.StatusOK},
	} {
		resp, body := h.get(tt.path, "pid:urn:mrn|123")
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.path, resp.StatusCode, body, tt.want)
		}
		if tt.want != http.StatusOK && strings.Contains(body, "valueQuantity") {
			t.Errorf("%s: withheld data in the answer: %s", tt.path, body)
		}
	}
}

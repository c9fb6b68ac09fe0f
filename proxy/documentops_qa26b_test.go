package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// $summary (a patient summary, IPS) and $document (a document Bundle)
// answer with resources of any type, as $everything does, and need what
// it needs, r and s on *: they needed r and s on Patient or Composition
// only, so a token scoped to Patients read the patient's conditions,
// medications and results (QA round 26, area B).
func TestDocumentOperationsNeedEveryType(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"document","entry":[]}`), withScopeAuth)
	cases := []struct {
		path, tok string
		forbidden bool
	}{
		{"/fhir/Patient/p1/$summary", "|user/Patient.rs", true},
		{"/fhir/Patient/p1/$summary", "p1|patient/Patient.rs", true},
		{"/fhir/Composition/c1/$document", "|user/Composition.rs", true},
		{"/fhir/Composition/c1/$document", "|user/Composition.rs user/Patient.rs", true},
		{"/fhir/Patient/p1/$summary", "|user/*.rs", false},
		{"/fhir/Patient/p1/$summary", "p1|patient/*.read", false},
		{"/fhir/Composition/c1/$document", "|user/*.read", false},
		// persist=true stores the document as a Bundle: a write.
		{"/fhir/Composition/c1/$document?persist=true", "|user/*.read", true},
		{"/fhir/Composition/c1/$document?persist=True", "|user/*.rs", true},
		{"/fhir/Composition/c1/$document?persist=true", "|user/*.rs user/Bundle.c", false},
		{"/fhir/Composition/c1/$document?persist=false", "|user/*.read", false},
	}
	for _, c := range cases {
		resp, body := h.get(c.path, c.tok)
		forwarded := false
		for h.forwarded() {
			forwarded = true
		}
		if got := resp.StatusCode == http.StatusForbidden; got != c.forbidden || got && (forwarded || !strings.Contains(body, `"forbidden"`)) || !got && !forwarded {
			t.Errorf("%s with %q: %d (forwarded %v), want forbidden=%v: %s", c.path, c.tok, resp.StatusCode, forwarded, c.forbidden, body)
		}
	}
}

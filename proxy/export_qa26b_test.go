package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// With enforcement.allow_export, a bulk export hands over every resource
// of the types it exports, past the response checks: the SMART scopes are
// what is left, and only the type the export starts from was needed
// (user/Patient.rs ran Patient/$export of every type), while a
// patient-context token could export every patient's data (QA round 26,
// area B). An export needs r and s on each _type (on * without one, and
// for a POST, whose body is not read here) and on its starting type; a
// patient-context token may not export.
func TestExportNeedsTheExportedTypes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Location", "http://upstream/status/1")
		w.WriteHeader(http.StatusAccepted)
	}, withScopeAuth, func(o *Options, _ *Deps) { o.Requests.AllowExport = true })
	cases := []struct {
		method, path, tok string
		forbidden         bool
	}{
		{"GET", "/fhir/Patient/$export", "|user/Patient.rs", true},
		{"GET", "/fhir/Group/g1/$export", "|user/Group.rs", true},
		{"GET", "/fhir/Group/g1/$export?_type=Observation", "|user/Group.rs", true},
		{"GET", "/fhir/Patient/$export?_type=Patient,Condition", "|user/Patient.rs user/Observation.rs", true},
		{"GET", "/fhir/Patient/$export?_type=Observation", "|user/Observation.rs", true}, // the starting type too
		{"POST", "/fhir/Patient/$export?_type=Patient", "|user/Patient.cruds", true},
		{"GET", "/fhir/Patient/$export", "p1|patient/*.rs", true},
		{"GET", "/fhir/$export", "p1|patient/*.rs", true},
		{"GET", "/fhir/Group/g1/$export", "p1|patient/*.rs", true},
		{"GET", "/fhir/Patient/$export?_type=Patient,Observation", "|user/Patient.rs user/Observation.rs", false},
		{"GET", "/fhir/Group/g1/$export?_type=Observation", "|user/Group.rs user/Observation.rs", false},
		{"GET", "/fhir/Patient/$export", "|user/*.rs", false},
		{"GET", "/fhir/$export", "|system/*.read", false},
	}
	for _, c := range cases {
		resp, body := h.do(c.method, c.path, c.tok, "", "")
		forwarded := false
		for h.forwarded() {
			forwarded = true
		}
		if got := resp.StatusCode == http.StatusForbidden; got != c.forbidden || got && (forwarded || !strings.Contains(body, `"forbidden"`)) || !got && !forwarded {
			t.Errorf("%s %s with %q: %d (forwarded %v), want forbidden=%v: %s", c.method, c.path, c.tok, resp.StatusCode, forwarded, c.forbidden, body)
		}
	}
}

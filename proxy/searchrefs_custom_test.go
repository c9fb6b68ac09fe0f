package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A plain id in a parameter that is not FHIR R4's (a custom
// SearchParameter, a vendor's own such as Medplum's DiagnosticReport.study)
// may be read by the server as a reference: the proxy cannot tell, so the
// search is refused unless the site declares the parameter, and the answer
// does not depend on what the id names. Nothing reaches the upstream.
func TestUnknownParameterWithPlainIDRefused(t *testing.T) {
	t.Parallel()
	h, query, reads := bareIDHarness(t)
	for _, c := range []struct{ withheld, missing string }{
		{"/fhir/DiagnosticReport?study=sud1", "/fhir/DiagnosticReport?study=nope"},
		{"/fhir/Observation?patient=p1&x-concern=sud1", "/fhir/Observation?patient=p1&x-concern=nope"},
	} {
		r1, b1 := h.get(c.withheld, tokOther)
		r2, b2 := h.get(c.missing, tokOther)
		if r1.StatusCode != http.StatusBadRequest || r2.StatusCode != r1.StatusCode || b1 != b2 ||
			!strings.Contains(b1, "enforcement.search_params") || strings.Contains(b1, "sud1") {
			t.Errorf("%s: %d %s; %s: %d %s", c.withheld, r1.StatusCode, b1, c.missing, r2.StatusCode, b2)
		}
		typ := strings.TrimPrefix(strings.Split(c.withheld, "?")[0], "/fhir/")
		if q := query(typ); q != "" {
			t.Errorf("%s reached the upstream: %q", c.withheld, q)
		}
	}
	if r := reads(); len(r) != 0 {
		t.Errorf("refused searches read %v", r)
	}
	// Values that cannot be an id, typed references (checked as every
	// parameter's are) and modifiers that make the value no reference go.
	for path, want := range map[string]string{
		"/fhir/DiagnosticReport?study=Condition/ok1":      "study=Condition/ok1",
		"/fhir/DiagnosticReport?study=Condition/sud1":     "study=Condition/" + noneID,
		"/fhir/DiagnosticReport?study:missing=true":       "study:missing=true",
		"/fhir/Observation?x-score=gt5%7Cx":               "x-score=gt5|x",
		"/fhir/DiagnosticReport?study:identifier=urn%7C1": "study:identifier=urn|1",
	} {
		typ := strings.TrimPrefix(strings.Split(path, "?")[0], "/fhir/")
		if resp, body := h.get(path, tokOther); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		} else if q := query(typ); q != want {
			t.Errorf("%s: upstream query %q, want %q", path, q, want)
		}
	}
	// In a batch, the entry is refused with the same reason.
	resp, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation?x-concern=nope"}}]}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "enforcement.search_params") {
		t.Errorf("batch Observation?x-concern=nope: %d %s", resp.StatusCode, body)
	}
}

// A declared parameter is read as declared: a reference one's plain id is
// checked as each target type (a withheld Condition answers as a missing
// one), one of every type (Resource) applies to every search, a token one
// goes as written.
func TestDeclaredParameterCheckedAsDeclared(t *testing.T) {
	t.Parallel()
	h, query, _ := bareIDHarness(t, withSearchParams(
		SearchParam{Resource: "DiagnosticReport", Code: "study", Type: "reference", Targets: []string{"Condition", "ImagingStudy"}},
		SearchParam{Resource: "Resource", Code: "x-concern", Type: "reference", Targets: []string{"Condition"}},
		SearchParam{Resource: "Observation", Code: "x-kind", Type: "token"},
		SearchParam{Resource: "Resource", Code: "x-any", Type: "reference"},
	))
	for _, c := range []struct{ path, tok, want string }{
		{"/fhir/DiagnosticReport?study=sud1", tokOther, "study=" + noneID},
		{"/fhir/DiagnosticReport?study=sud1", tokConsented, "study=Condition/sud1"},
		{"/fhir/DiagnosticReport?study=ok1", tokOther, "study=Condition/ok1"},
		{"/fhir/Observation?x-concern=sud1", tokOther, "x-concern=" + noneID},
		{"/fhir/Observation?x-concern=nope", tokOther, "x-concern=" + noneID},
		{"/fhir/Observation?x-concern=ok1", tokOther, "x-concern=ok1"},
		{"/fhir/Observation?x-kind=sud1", tokOther, "x-kind=sud1"},
	} {
		typ := strings.TrimPrefix(strings.Split(c.path, "?")[0], "/fhir/")
		if resp, body := h.get(c.path, c.tok); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, body)
		} else if q := query(typ); q != c.want {
			t.Errorf("%s: upstream query %q, want %q", c.path, q, c.want)
		}
	}
	// Declared for another type, the parameter is still unknown here; of
	// any type, a plain id is refused as List?item's is.
	for path, want := range map[string]string{
		"/fhir/Encounter?study=nope":  "enforcement.search_params",
		"/fhir/Encounter?x-any=nope":  "write its type",
		"/fhir/Encounter?x-kind=nope": "enforcement.search_params",
	} {
		if resp, body := h.get(path, tokOther); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func withSearchParams(ps ...SearchParam) harnessOpt {
	return func(o *Options, _ *Deps) { o.Requests.SearchParams = ps }
}

func TestSearchParamsValidated(t *testing.T) {
	t.Parallel()
	if errs := (RequestRules{SearchParams: []SearchParam{
		{Resource: "DiagnosticReport", Code: "study", Type: "reference", Targets: []string{"ImagingStudy"}},
		{Resource: "Resource", Code: "x-kind", Type: "token"},
	}}).validate(); len(errs) != 0 {
		t.Fatalf("valid declarations refused: %v", errs)
	}
	for _, c := range []struct {
		p    SearchParam
		want string
	}{
		{SearchParam{Resource: "diagnosticReport", Code: "study", Type: "reference"}, "not a resource type"},
		{SearchParam{Resource: "DiagnosticReport", Code: "_study", Type: "reference"}, "not a search parameter name"},
		{SearchParam{Resource: "DiagnosticReport", Code: "study:exact", Type: "reference"}, "not a search parameter name"},
		{SearchParam{Resource: "DiagnosticReport", Code: "study", Type: "ref"}, "is not one of reference"},
		{SearchParam{Resource: "DiagnosticReport", Code: "study", Type: "token", Targets: []string{"ImagingStudy"}}, "targets are for a reference parameter"},
		{SearchParam{Resource: "DiagnosticReport", Code: "study", Type: "reference", Targets: []string{"imaging"}}, "not a resource type"},
		{SearchParam{Resource: "Observation", Code: "focus", Type: "token"}, "is FHIR R4's parameter of Observation"},
	} {
		errs := (RequestRules{SearchParams: []SearchParam{c.p}}).validate()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), c.want) || !strings.Contains(errs[0].Error(), "enforcement.search_params[0]") {
			t.Errorf("%+v: %v, want one error with %q", c.p, errs, c.want)
		}
	}
}

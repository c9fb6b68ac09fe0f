package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCallerOffsetRefused: QA round 20 asked an enrolled patient's
// $everything for its second page directly with _offset=1. The page held
// the Part 2 program's Organization without the cut Patient before it, so
// nothing carried the cut and "Riverside Recovery" was released to a caller
// without consent, where following the page link withholds it
// (TestEverythingSecondPageWithholdsTheProgram). _offset is the upstream's
// paging handle as _getpagesoffset is: refused from callers, kept in the
// upstream's own page links.
func TestCallerOffsetRefused(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, enrolledEverything(&h), withProgram)
	for _, p := range []string{
		"/fhir/Patient/p1/$everything?_count=1&_offset=1",
		"/fhir/Patient/p1/$everything?_OFFSET=1",
		"/fhir/Condition?subject=Patient/p1&_offset=20",
	} {
		resp, body := h.get(p, tokOther)
		if resp.StatusCode != http.StatusBadRequest || strings.Contains(body, "Riverside") {
			t.Errorf("%s: %d %s, want 400", p, resp.StatusCode, body)
		}
		for len(h.seen) > 0 {
			if r := <-h.seen; r.URL.Query().Has("_offset") {
				t.Errorf("%s: the upstream was asked for %s", p, r.URL.RawQuery)
			}
		}
	}
	// The upstream's own link with _offset still pages, through a token.
	resp, body := h.get("/fhir/Patient/p1/$everything?_count=1", tokOther)
	next := pageLinksOf(t, body)["next"]
	if resp.StatusCode != http.StatusOK || next == "" {
		t.Fatalf("page 1: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "Riverside") {
		t.Fatalf("page 2: %d %s", resp.StatusCode, body)
	}
}

// TestCompositeSensitiveCodeWithInclude: a composite search's value joins
// its components with $ (code-value-concept=LOINC$SNOMED). Each component
// is a token the include guard must weigh: QA round 20's
// Observation?code-value-concept=1234$F11.20&_include=Observation:patient
// was forwarded, the whole value tried as one code no rule labels.
func TestCompositeSensitiveCodeWithInclude(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`))
	for _, c := range []struct {
		value  string
		status int
	}{
		{"1234$F11.20", 400},
		{"http://loinc.org|11341-5$http://hl7.org/fhir/sid/icd-10-cm|F11.20", 400},
		{"1234$ F11.20 ", 400},
		{"1234$I10,5678$F10.20", 400},
		{"http://loinc.org|11341-5$http://hl7.org/fhir/sid/icd-10-cm|I10", 200},
	} {
		p := "/fhir/Observation?code-value-concept=" + url.QueryEscape(c.value) + "&_include=Observation:patient"
		resp, body := h.get(p, tokAll)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.value, resp.StatusCode, body, c.status)
		}
		for len(h.seen) > 0 {
			if r := <-h.seen; c.status != 200 {
				t.Errorf("%s: a refused search reached the upstream: %s", c.value, r.URL.RawQuery)
			}
		}
	}
}

// TestInParameterRefusedAsList: R5's _in (Patient?_in=List/x, Group/g,
// CareTeam/c) selects by the members of a resource the caller may not
// read, as _list does; QA round 20 found it forwarded. It follows
// enforcement.allow_list, and with that on still counts as a sensitive
// filter beside an include.
func TestInParameterRefusedAsList(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path   string
		rules  RequestRules
		status int
	}{
		{"/fhir/Patient?_in=List/part2-patients", RequestRules{}, 400},
		{"/fhir/Condition?_IN:not=Group/g1", RequestRules{}, 400},
		{"/fhir/Patient?_in=List/l1", RequestRules{AllowList: true}, 200},
		{"/fhir/Condition?_in=List/l1&_include=Condition:patient", RequestRules{AllowList: true}, 400},
	} {
		h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`), func(o *Options, _ *Deps) { o.Requests = c.rules })
		resp, body := h.get(c.path, tokAll)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.status)
		}
		if c.status != 200 && len(h.seen) > 0 {
			t.Errorf("%s: a refused search reached the upstream", c.path)
		}
	}
}

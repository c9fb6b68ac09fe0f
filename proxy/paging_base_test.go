package proxy

import (
	"testing"
)

// Page links in another spelling of the upstream's server (scheme and host
// in any case, the default port written or not) are the upstream's pages;
// other servers, ports, schemes, paths and user information are not.
func TestPageLinkBaseSpellings(t *testing.T) {
	t.Parallel()
	s := testServer(t, RequestRules{}) // upstream http://upstream.invalid/fhir/R4
	for u, want := range map[string]string{
		"http://upstream.invalid/fhir/R4/Observation?x=1":         "/Observation?x=1",
		"HTTP://UPSTREAM.INVALID/fhir/R4/Observation?x=1":         "/Observation?x=1",
		"http://upstream.invalid:80/fhir/R4/Observation?x=1":      "/Observation?x=1",
		"http://Upstream.Invalid.:80/fhir/R4?_getpages=a&x=%2F":   "?_getpages=a&x=%2F",
		"http://upstream.invalid:80/fhir/R4":                      "",
		"http://upstream.invalid:8080/fhir/R4/Observation?x=1":    "-",
		"https://upstream.invalid/fhir/R4/Observation?x=1":        "-",
		"http://upstream.invalid:80/fhir/R4x/Observation":         "-",
		"http://upstream.invalid:80/FHIR/R4/Observation":          "-",
		"http://u@upstream.invalid:80/fhir/R4/Observation":        "-",
		"http://elsewhere.example/fhir/R4/Observation":            "-",
		"/fhir/R4/Observation?x=1":                                "-",
		"Observation?x=1":                                         "-",
		"http://upstream.invalid:80/fhir/R4/Observation?x=1#frag": "/Observation?x=1",
	} {
		got, ok := s.pageRel(u)
		if !ok {
			got = "-"
		}
		if got != want {
			t.Errorf("%s: %q, want %q", u, got, want)
		}
	}
}

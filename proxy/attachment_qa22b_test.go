package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// withCaseAliases lists the EHR's base twice, as an http base on port 443
// and as an https one, so that urls may spell either in another case.
func withCaseAliases(o *Options, _ *Deps) {
	for _, a := range []string{"http://ehr.example:443/fhir", "https://ehr.example/fhir"} {
		u, _ := url.Parse(a)
		o.UpstreamAliases = append(o.UpstreamAliases, u)
	}
}

// TestAttachmentURLsInAnotherCase (QA round 22, area B): an attachment url
// naming the upstream's base, or an alias, with its scheme and host spelled
// otherwise (another case, the default port, a host's trailing dot) was
// left as it was: the caller saw the upstream's address, and following it
// skipped the Binary rules. The pre-filter (mayHoldUpstreamURL) looked for
// a base as written, and the rewrite (rewriteBase) took only that. Both now
// take what page links take (pageRel): the scheme and host as RFC 3986
// normalises them, the path exactly.
func TestAttachmentURLsInAnotherCase(t *testing.T) {
	t.Parallel()
	media := func(id, u string) func(string) string {
		return func(string) string {
			return `{"resourceType":"Media","id":"` + id + `","status":"completed","subject":{"reference":"Patient/p1"},"content":{"contentType":"image/png","url":"` + u + `"}}`
		}
	}
	bodies := map[string]func(base string) string{
		"Media/k1": media("k1", "HTTP://EHR.example:443/fhir/Binary/1"),
		"Media/k2": media("k2", "https://ehr.example./fhir/Binary/2"),
		"Media/k3": media("k3", `HTTPS:\/\/EHR.EXAMPLE:443\/fhir\/Binary\/3`),
		"Media/k4": func(b string) string { return media("k4", "HTTP"+strings.TrimPrefix(b, "http")+"/Binary/4")(b) },
		// the path is compared as written; another port is another server
		"Media/k6": media("k6", "https://ehr.example/FHIR/Binary/6"),
		"Media/k7": media("k7", "https://ehr.example:8443/fhir/Binary/7"),
	}
	h := newHarness(t, pathBodies(bodies), withCaseAliases)
	proxied := h.proxy.URL + "/fhir/Binary/"
	for path, want := range map[string]string{
		"Media/k1": proxied + "1", "Media/k2": proxied + "2", "Media/k3": proxied + "3", "Media/k4": proxied + "4",
		"Media/k6": "https://ehr.example/FHIR/Binary/6", "Media/k7": "https://ehr.example:8443/fhir/Binary/7",
	} {
		resp, body := h.get("/fhir/"+path, tokOther)
		var urls []string
		if resp.StatusCode == 200 {
			collectURLs(t, body, &urls)
		}
		if len(urls) != 1 || urls[0] != want {
			t.Errorf("%s: %d, urls %q, want %s: %s", path, resp.StatusCode, urls, want, body)
		}
	}
}

// TestMayHoldUpstreamURL: the pre-filter says "maybe" for each spelling of
// a base's server and for what it cannot rule out cheaply, and "no" for a
// resource whose urls name other servers, whose narrative escapes quotes
// and names the host outside a url. It allocates nothing. Not parallel:
// it counts allocations.
func TestMayHoldUpstreamURL(t *testing.T) {
	up, _ := url.Parse("http://127.0.0.1:8080/fhir")
	alias, _ := url.Parse("https://EHR.Example.:443/fhir")
	s := &Server{opts: Options{Upstream: up, UpstreamAliases: []*url.URL{alias}}}
	s.upBases = upstreamBases(s.opts)
	r := &run{s: s}
	for seg, want := range map[string]bool{
		`{"url":"http://127.0.0.1:8080/fhir/Binary/1"}`:                                                               true,
		`{"url":"HTTPS://ehr.EXAMPLE/fhir/Binary/1"}`:                                                                 true,
		`{"url":"https://user@ehr.example:443/fhir/Binary/1"}`:                                                        true,
		`{"url":"https:\/\/ehr.example.\/fhir\/Binary\/1"}`:                                                           true,
		`{"url":"https:/\/Ehr.Example/fhir"}`:                                                                         true,
		`{"url":"https:\//eHR.example"}`:                                                                              true,
		`{"url":"\u0068ttps://elsewhere.example/x"}`:                                                                  true,
		`{"url":"https://%65hr.example/fhir/Binary/1"}`:                                                               true,
		"{\"url\":\"https://ehr.exampl\u212a/fhir/Binary/1\"}":                                                        true,
		`{"system":"http://loinc.org","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">seen at ehr.example</div>"}`: false,
		`{"reference":"Patient/p1","url":"https://elsewhere.example/ehr.example"}`:                                    false,
		`{"url":"https://ehr.example.org/fhir/Binary/1"}`:                                                             true, // a false maybe: a walk
		`{"url":"https://127.0.0.2:8080/fhir"}`:                                                                       false,
		`{"a":"//"}`:                                                                                                  false,
		`{"a":"/"}`:                                                                                                   false,
		``:                                                                                                            false,
	} {
		if got := r.mayHoldUpstreamURL([]byte(seg)); got != want {
			t.Errorf("mayHoldUpstreamURL(%s) = %v, want %v", seg, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		r.mayHoldUpstreamURL([]byte(`{"url":"https://elsewhere.example/x","b":"HTTPS://EHR.example/fhir"}`))
	}); n != 0 {
		t.Errorf("%v allocations a call", n)
	}
}

package proxy

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawStatus sends target as the request line's target, byte for byte (a
// client would cut a fragment off), and returns the answer's status.
func (h *harness) rawStatus(target, token string) int {
	h.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(h.proxy.URL, "http://"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nConnection: close\r\n\r\n")); err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A '#' in the query is no part of it for a server that reads it as a
// fragment's start: code=F11.20#x passed the include guard as a code no
// rule labels, and such a server searched code=F11.20 with the include
// (the included Patient shows whose record matched). The proxy refuses it.
func TestFragmentInQueryRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`))
	for _, target := range []string{
		"/fhir/Condition?_include=Condition:subject&code=86406008#x",
		"/fhir/Condition?_include=Condition:subject&code=http://snomed.info/sct|86406008#",
		"/fhir/Observation?_include=Observation:subject&code=http://loinc.org|25836-8#",
		"/fhir/Condition?code=F11.20&_count=5#",
	} {
		if st := h.rawStatus(target, tokConsented); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", target, st)
		}
	}
	select {
	case r := <-h.seen:
		t.Fatalf("reached the upstream: %s?%s", r.URL.Path, r.URL.RawQuery)
	default:
	}
	// Percent-encoded, # is a value's character: forwarded as sent.
	if st := h.rawStatus("/fhir/Observation?code=a%23b", tokConsented); st != http.StatusOK {
		t.Errorf("an encoded #: %d", st)
	}
}

// A page link with a fragment is followed without it: the page's query
// ends before the '#', which the proxy would refuse in a query.
func TestPageLinkFragmentDropped(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
			`{"relation":"next","url":"`+h.base()+`/Observation?subject=Patient/p1&_offset=2#top"}],`+
			`"entry":[{"resource":`+bpObs+`}]}`)(w, r)
	})
	resp, body := h.get("/fhir/Observation?subject=Patient/p1", tokConsented)
	<-h.seen
	next := pageLinksOf(t, body)["next"]
	if resp.StatusCode != 200 || next == "" {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("following next: %d %s", resp.StatusCode, body)
	}
	if up := <-h.seen; up.URL.RawQuery != "subject=Patient/p1&_offset=2" {
		t.Fatalf("upstream got the query %q", up.URL.RawQuery)
	}
}

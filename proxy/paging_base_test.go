package proxy

import (
	"log/slog"
	"net/http"
	"strings"
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

// A next link the proxy cannot carry leaves the caller's Bundle looking
// complete: the operator is told, by the link's server alone.
func TestDroppedNextLinkLogged(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		port := h.upstream.URL[strings.LastIndexByte(h.upstream.URL, ':')+1:]
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
			`{"relation":"self","url":"https://ehr.example/fhir/Observation?subject=Patient/p1"},`+
			`{"relation":"next","url":"https://ehr.example/fhir/Observation?subject=Patient/p1&_offset=2"},`+
			`{"relation":"first","url":"HTTP://127.0.0.1:`+port+`/fhir/R4/Observation?subject=Patient/p1&_offset=0"}],`+
			`"entry":[{"resource":`+bpObs+`}]}`)(w, r)
	}, func(_ *Options, d *Deps) { d.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	resp, body := h.get("/fhir/Observation?subject=Patient/p1", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	links := pageLinksOf(t, body)
	if len(links) != 1 || !strings.HasPrefix(links["first"], h.proxy.URL+"/fhir/_page/") {
		t.Fatalf("want the first link only (the upstream's server in capitals): %v", links)
	}
	out := logs.String()
	if !strings.Contains(out, `"relation":"next"`) || !strings.Contains(out, `"link_server":"https://ehr.example"`) || strings.Contains(out, `"relation":"self"`) {
		t.Fatalf("the dropped next link was not logged so: %s", out)
	}
	if strings.Contains(out, "p1") || strings.Contains(out, "_offset") || strings.Contains(out, "Observation?") {
		t.Fatalf("the log names the link's path or query: %s", out)
	}
}

// An upstream writing many links the proxy cannot carry costs one log line
// per Bundle, not one per link.
func TestDroppedPageLinksLoggedOnce(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	links := strings.Repeat(`{"relation":"next","url":"https://ehr.example/fhir/Observation?_offset=2"},`, 200)
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+strings.TrimSuffix(links, ",")+`],"entry":[{"resource":`+bpObs+`}]}`),
		func(_ *Options, d *Deps) { d.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	if resp, body := h.get("/fhir/Observation?subject=Patient/p1", tokConsented); resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	if n := strings.Count(logs.String(), "a page link of the FHIR server"); n != 1 {
		t.Fatalf("%d log lines for one Bundle", n)
	}
}

// The relation logged for a dropped link is the relation type it names,
// never the rest of what the upstream wrote in it (QA round 21).
func TestDroppedPageLinkRelationLoggedAsItsType(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
		`{"relation":"NEXT Patient/pat-secret1 Zebediah-Quuxworth","url":"https://ehr.example/fhir/Observation?_offset=2"}],"entry":[{"resource":`+bpObs+`}]}`),
		func(_ *Options, d *Deps) { d.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	if resp, body := h.get("/fhir/Observation?subject=Patient/p1", tokConsented); resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	out := logs.String()
	if !strings.Contains(out, `"relation":"next"`) || strings.Contains(out, "secret1") || strings.Contains(out, "Zebediah") {
		t.Fatalf("the dropped link's relation is not logged as its type alone: %s", out)
	}
}

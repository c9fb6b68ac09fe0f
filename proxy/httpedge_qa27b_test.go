package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
)

// TestNonJSONUpstreamMissingAnswersAsMissing: a withheld resource answers
// the canonical 404, and so must a missing one whatever the body of the
// server's 404 or 410: a gateway before the EHR (nginx, an API manager)
// answers a missing resource with an HTML or plain-text page, a server
// with application/problem+json or XML. Such a 404 was answered 502 (the
// server's content "cannot be inspected") while a withheld resource
// answered 404: a caller told the two apart on read, vread and instance
// history.
func TestNonJSONUpstreamMissingAnswersAsMissing(t *testing.T) {
	t.Parallel()
	bodies := map[string][2]string{
		"x-html":    {"text/html", "<html><body><h1>404 Not Found</h1></body></html>"},
		"x-text":    {"text/plain; charset=utf-8", "Resource not found"},
		"x-problem": {"application/problem+json", `{"type":"about:blank","title":"Not Found","status":404}`},
		"x-xml":     {"application/fhir+xml", `<OperationOutcome xmlns="http://hl7.org/fhir"><issue><severity value="error"/><code value="not-found"/></issue></OperationOutcome>`},
		"x-none":    {"", "not found"},
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		id := strings.Split(strings.TrimPrefix(r.URL.Path, "/fhir/R4/Condition/"), "/")[0]
		if id == "x-withheld" {
			fhirJSONHandler(200, strings.Replace(sudCondition, `"sud1"`, `"x-withheld"`, 1))(w, r)
			return
		}
		status := http.StatusNotFound
		if strings.HasSuffix(id, "-gone") {
			status, id = http.StatusGone, strings.TrimSuffix(id, "-gone")
			w.Header().Set("ETag", `W/"4"`)
			w.Header().Set("Last-Modified", "Sun, 06 Dec 2026 01:00:00 GMT")
		}
		b := bodies[id]
		if b[0] == "" {
			w.Header()["Content-Type"] = nil // no Content-Type sniffed either
		} else {
			w.Header().Set("Content-Type", b[0])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(b[1]))
	})
	for _, suffix := range []string{"", "/_history/1", "/_history"} {
		resp, want := h.get("/fhir/Condition/x-withheld"+suffix, tokOther)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(want, "OperationOutcome") {
			t.Fatalf("withheld%s: %d %s", suffix, resp.StatusCode, want)
		}
		for id := range bodies {
			for _, ask := range []string{id, id + "-gone"} {
				resp, body := h.get("/fhir/Condition/"+ask+suffix, tokOther)
				if resp.StatusCode != http.StatusNotFound || strings.ReplaceAll(body, ask, "x-withheld") != want ||
					resp.Header.Get("Content-Type") != fhirJSON || resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != "" {
					t.Errorf("%s%s: %d %v %s; withheld: %s", ask, suffix, resp.StatusCode, resp.Header, body, want)
				}
			}
		}
	}
}

// TestUpstreamInterimResponsesNotForwarded: the reverse proxy forwards an
// upstream's 1xx answers (103 Early Hints, 102 Processing) to the caller
// with their headers, before the final answer is read, labelled or
// decided, wherever the request goes through http.Transport (writes, POST
// _search, every request to an https upstream). A server or a CDN before
// it that hints the resources an answer holds (Link: <Condition/x>;
// rel=preload) named withheld ones; one that hints only for a resource
// that exists told a withheld resource from a missing one. No interim
// answer of the upstream reaches the caller now. (gin's writer kept
// the 1xx itself from the wire, but the hook then cleared the writer's
// headers: the edge's X-Request-Id was gone from the final answer.)
func TestUpstreamInterimResponsesNotForwarded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</fhir/R4/Condition/sud1>; rel=preload")
		w.Header().Set("X-Hint", "F11.20")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Del("X-Hint")
		fhirJSONHandler(200, bundle("http://"+r.Host+"/fhir/R4", 1, false, sudCondition))(w, r)
	})
	var got []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, hdr textproto.MIMEHeader) error {
		got = append(got, strconv.Itoa(code)+" "+fmt.Sprint(hdr))
		return nil
	}}
	for _, req := range []struct{ method, path, ctype, body string }{
		{http.MethodPost, "/fhir/Condition/_search", "application/x-www-form-urlencoded", "subject=Patient/p1"},
		{http.MethodGet, "/fhir/Condition?subject=Patient/p1", "", ""},
	} {
		var rd io.Reader
		if req.body != "" {
			rd = strings.NewReader(req.body)
		}
		r, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), req.method, h.proxy.URL+req.path, rd)
		r.Header.Set("Authorization", "Bearer "+tokOther)
		if req.ctype != "" {
			r.Header.Set("Content-Type", req.ctype)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(b), "F11.20") {
			t.Fatalf("%s %s: %d %s", req.method, req.path, resp.StatusCode, b)
		}
		if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("Link") != "" || resp.Header.Get("X-Hint") != "" {
			t.Errorf("%s %s: headers %v", req.method, req.path, resp.Header)
		}
	}
	if len(got) != 0 {
		t.Errorf("the upstream's interim answers reached the caller: %q", got)
	}
}

// TestUpstreamSeesOnlyFHIRHeaders: the caller's request headers reached
// the upstream unless dropped by name, so every header a server reads as
// its own extension went past the checks: Medplum's X-Medplum: extended
// adds meta.author to what it answers (who wrote the resource: on a
// Patient whose Part 2 enrolment the proxy cuts, the program's clinician)
// and X-Medplum-On-Behalf-Of makes it act, and record writes, as another
// user. Only the headers FHIR's REST API defines for what the proxy
// forwards (and the caller's agent and trace context) reach it now.
func TestUpstreamSeesOnlyFHIRHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bundle("http://upstream.invalid/fhir/R4", 1, false, bpObs)))
	extensions := []string{"X-Medplum", "extended", "X-Medplum-On-Behalf-Of", "ProjectMembership/pm1",
		"X-Upsert-Existence-Check", "disabled", "X-Partition-Name", "program", "X-Api-Key", "k1",
		"X-Ms-Consistency-Level", "eventual", "If-None-Exist", ""}
	fhir := []string{"Prefer", "handling=strict", "User-Agent", "probe/1", "Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	for _, send := range []func(hdr ...string){
		func(hdr ...string) { h.get("/fhir/Observation?subject=Patient/p1", tokOther, hdr...) },
		func(hdr ...string) {
			h.do(http.MethodPost, "/fhir/Observation/_search", tokOther, "application/x-www-form-urlencoded", "subject=Patient/p1", hdr...)
		},
	} {
		send(append(append([]string{}, extensions...), fhir...)...)
		r := <-h.seen
		for i := 0; i < len(extensions); i += 2 {
			if _, ok := r.Header[extensions[i]]; ok {
				t.Errorf("%s %s: the upstream got the caller's %s", r.Method, r.URL.Path, extensions[i])
			}
		}
		for i := 0; i < len(fhir); i += 2 {
			if got := r.Header.Get(fhir[i]); got != fhir[i+1] {
				t.Errorf("%s %s: the upstream got %s %q, want %q", r.Method, r.URL.Path, fhir[i], got, fhir[i+1])
			}
		}
		if r.Header.Get("X-Forwarded-For") == "" || r.Header.Get("Accept") != "application/fhir+json" || r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: headers the proxy sets were lost: %v", r.Method, r.URL.Path, r.Header)
		}
	}
}

// TestEmptyAnswerCarriesNoUpstreamTrailers: an upstream answer without a
// body (a write answered as return=minimal, a 202) kept the upstream's
// trailers, which the reverse proxy announces in a Trailer header and
// sends after the body: headers of the upstream's past the allowlist.
func TestEmptyAnswerCarriesNoUpstreamTrailers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		w.Header().Set("Trailer", "X-Upstream-Secret")
		w.Header().Set("Location", "http://"+r.Host+"/fhir/R4/Observation/n1/_history/1")
		w.WriteHeader(http.StatusCreated)
		w.(http.Flusher).Flush()
		w.Header().Set("X-Upstream-Secret", "F11.20")
	})
	resp, body := h.do(http.MethodPost, "/fhir/Observation", "Organization/org-b|TREAT|user/*.*", "application/fhir+json",
		strings.Replace(bpObs, `"id":"bp1",`, "", 1))
	if resp.StatusCode != http.StatusCreated || body != "" {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Trailer") != "" || len(resp.Trailer) != 0 || resp.Header.Get("X-Upstream-Secret") != "" {
		t.Errorf("the upstream's trailers reached the caller: header %v, trailer %v", resp.Header, resp.Trailer)
	}
}

// TestPageAnswerNamesNoUpstreamPage: a page token seals the upstream's
// page URL so that the caller can neither read nor change it, but an
// upstream naming the page it answers in Content-Location (or Location)
// had that URL rewritten onto the proxy's base and passed on: the
// server's own paging handle and offset (where a refilled window had
// taken the page from) were readable on every page after the first.
func TestPageAnswerNamesNoUpstreamPage(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("_getpages") != "" {
			w.Header().Set("Content-Location", h.base()+"?_getpages=handle7f3&_getpagesoffset=1")
			w.Header().Set("Location", h.base()+"?_getpages=handle7f3&_getpagesoffset=1")
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":`+strings.Replace(bpObs, `"bp1"`, `"bp2"`, 1)+`}]}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
			`{"relation":"next","url":"`+h.base()+`?_getpages=handle7f3&_getpagesoffset=1"}],`+
			`"entry":[{"resource":`+bpObs+`}]}`)(w, r)
	})
	resp, body := h.get("/fhir/Observation?subject=Patient/p1", tokOther)
	next := pageLinksOf(t, body)["next"]
	if resp.StatusCode != 200 || next == "" {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tokOther)
	if resp.StatusCode != 200 || !strings.Contains(body, `"bp2"`) {
		t.Fatalf("page 2: %d %s", resp.StatusCode, body)
	}
	for _, k := range []string{"Content-Location", "Location"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("page 2 names the upstream's page in %s: %s", k, v)
		}
	}
}

// TestRespondAsyncNotForwarded: Prefer: respond-async reached the server,
// which may then run the request in the background and answer 202 with a
// status URL: a batch's reads ran, their answer went where the proxy
// never decides it (Medplum: a Binary of the batch-response Bundle, read
// through job/<id>/status, no FHIR REST path the proxy serves), and the
// caller got no answer the proxy decided. The preference is removed (the
// others stay), except on an operation the site let through undecided
// (bulk $export needs it).
func TestRespondAsyncNotForwarded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Patient/p1" {
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		fhirJSONHandler(200, bundle("http://upstream.invalid/fhir/R4", 1, false, bpObs))(w, r)
	}, func(o *Options, _ *Deps) { o.Requests.AllowExport = true })
	for _, c := range []struct{ path, prefer, want string }{
		{"/fhir/Observation?subject=Patient/p1", "respond-async", ""},
		{"/fhir/Observation?subject=Patient/p1", "return=minimal, RESPOND-ASYNC ;wait=10, handling=strict", "return=minimal, handling=strict"},
		{"/fhir/Patient/p1/$everything", "respond-async", ""},
		{"/fhir/$export", "respond-async", "respond-async"},
	} {
		if resp, body := h.get(c.path, tokOther, "Prefer", c.prefer); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		var r *http.Request // the last request the upstream got ($everything reads its patient first)
		for more := true; more; {
			select {
			case r = <-h.seen:
			default:
				more = false
			}
		}
		if r == nil {
			t.Fatalf("%s: nothing forwarded", c.path)
		}
		if got := strings.Join(r.Header.Values("Prefer"), "|"); got != c.want {
			t.Errorf("%s with Prefer %q: the upstream got %q, want %q", c.path, c.prefer, got, c.want)
		}
	}
}

// TestUnreadableMissingAnswersAsMissing: a missing or deleted resource's
// 404 or 410 whose body the proxy could not read (an encoding it does not
// decode, a corrupt gzip, a body cut short) answered 502, where a
// withheld resource answers the canonical 404. Nothing of such an answer
// is read now.
func TestUnreadableMissingAnswersAsMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		id := strings.Split(strings.TrimPrefix(r.URL.Path, "/fhir/R4/Condition/"), "/")[0]
		switch id {
		case "x-withheld":
			fhirJSONHandler(200, strings.Replace(sudCondition, `"sud1"`, `"x-withheld"`, 1))(w, r)
			return
		case "x-br":
			w.Header().Set("Content-Encoding", "br")
		case "x-gzip":
			w.Header().Set("Content-Encoding", "gzip")
		case "x-short":
			w.Header().Set("Content-Length", "500")
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome"`))
	})
	resp, want := h.get("/fhir/Condition/x-withheld", tokOther)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("withheld: %d %s", resp.StatusCode, want)
	}
	for _, id := range []string{"x-br", "x-gzip", "x-short"} {
		resp, body := h.get("/fhir/Condition/"+id, tokOther)
		if resp.StatusCode != http.StatusNotFound || strings.ReplaceAll(body, id, "x-withheld") != want {
			t.Errorf("%s: %d %s; withheld: %s", id, resp.StatusCode, body, want)
		}
	}
}

package hostile

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// escaped reports why an upstream request URI is outside the FHIR base, or
// "" when it is inside.
func escaped(uri string) string {
	path, _, _ := strings.Cut(uri, "?")
	low := strings.ToLower(path)
	switch {
	case path != upBase && !strings.HasPrefix(path, upBase+"/"):
		return "outside " + upBase
	case strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") || strings.Contains(path, "/./"):
		return "a dot segment"
	case strings.Contains(low, "%2e") || strings.Contains(low, "%2f") || strings.Contains(low, "%5c") || strings.Contains(low, "%25"):
		return "an encoded dot, slash or percent"
	case strings.ContainsAny(path, "\\;"):
		return "a backslash or ;"
	}
	return ""
}

// assertNothingEscaped fails for any request the upstream received since
// mark outside the FHIR base, or carrying the caller's credentials or an
// override header.
func (s *stack) assertNothingEscaped(t *testing.T, mark int) {
	t.Helper()
	upHost := strings.TrimPrefix(s.up.srv.URL, "http://")
	for _, r := range s.up.requests(mark) {
		if why := escaped(r.URI); why != "" {
			t.Errorf("the upstream received %s %q: %s", r.Method, r.URI, why)
		}
		if r.Host != upHost {
			t.Errorf("the upstream received Host %q, want its own %q", r.Host, upHost)
		}
		for _, h := range []string{"Authorization", "Cookie", "Proxy-Authorization", "X-Http-Method-Override", "X-Http-Method",
			"X-Method-Override", "X-Original-Url", "X-Rewrite-Url", "X-Injected", "Forwarded"} {
			if v := r.Header.Get(h); v != "" {
				t.Errorf("the upstream received %s: %q", h, v)
			}
		}
		for _, v := range r.Header.Values("X-Forwarded-For") {
			if v != "127.0.0.1" {
				t.Errorf("the upstream received X-Forwarded-For %q, not the proxy's own view of the caller", v)
			}
		}
	}
}

// assertNotReached fails when the upstream received anything since mark.
func (s *stack) assertNotReached(t *testing.T, mark int) {
	t.Helper()
	if got := s.up.requests(mark); len(got) > 0 {
		t.Errorf("the upstream was reached: %+v", got[0])
	}
}

// rawGet is a GET request line and headers as sent, with a caller's token.
func (s *stack) rawGet(target, caller string, extra ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: " + s.addr + "\r\n" + s.authLine(caller) + strings.Join(extra, "") + "Connection: close\r\n\r\n"
}

// pathCases are request targets that try to leave the FHIR base, sent as
// they are over raw TCP. Each is refused with an OperationOutcome (oo) or by
// net/http itself before the proxy sees it.
var pathCases = []struct {
	name, target string
	statuses     []int
	oo           bool
}{
	{"dot-dot", "/fhir/../admin/audit", []int{400}, true},
	{"dot-dot-deep", "/fhir/Patient/../../up/secret", []int{400}, true},
	{"dot-dot-after-id", "/fhir/Patient/1/../../../up/secret", []int{400}, true},
	{"single-dot", "/fhir/./Patient/1", []int{400}, true},
	{"encoded-dots", "/fhir/%2e%2e/admin", []int{400}, true},
	{"encoded-dots-and-slashes", "/fhir/Patient/%2e%2e%2f%2e%2e%2fsecret", []int{400}, true},
	{"encoded-slash", "/fhir/Patient%2f..%2f..%2fsecret", []int{400}, true},
	{"encoded-slash-upper", "/fhir/Patient%2F1", []int{400}, true},
	{"double-encoded", "/fhir/Patient/%252e%252e%252fsecret", []int{400}, true},
	{"overlong-utf8-dot", "/fhir/Patient/%c0%ae%c0%ae/secret", []int{400}, true},
	{"backslashes", `/fhir/Patient\..\..\secret`, []int{400}, true},
	{"encoded-backslashes", "/fhir/Patient/..%5c..%5csecret", []int{400}, true},
	{"semicolon-params", "/fhir/Patient/1;/../../secret", []int{400}, true},
	{"semicolon-jsessionid", "/fhir/Patient;jsessionid=x/1", []int{400}, true},
	{"nul-byte", "/fhir/Patient/1%00", []int{400}, true},
	{"encoded-crlf", "/fhir/Patient/1%0d%0aX-Injected:%20yes", []int{400}, true},
	{"bad-escape", "/fhir/Patient/%zz", []int{400}, false},
	{"long-segment", "/fhir/Patient/" + strings.Repeat("a", 4000), []int{400}, true},
	{"page-dot-dot", "/fhir/_page/../../admin", []int{400}, true},
	{"operation-dot-dot", "/fhir/$everything/../../x", []int{400}, true},
	{"outside-fhir", "//up/fhir/Patient/1", []int{404}, true},
	{"case-games", "/FHIR/Patient/1", []int{404}, true},
	{"xml-format", "/fhir/Patient/good?_format=xml", []int{406}, true},
	{"upstream-paging-param", "/fhir/Observation?_getpages=../../secret", []int{400}, true},
	{"fragment", "/fhir/Patient/good#../../secret", []int{400}, false},
	{"space-in-path", "/fhir/Patient/a b", []int{400}, false},
	{"huge-query", "/fhir/Observation?code=" + strings.Repeat("x", 70<<10), []int{431}, false},
}

// smuggleCases are raw requests with framing an intermediary could read
// differently; the trailing request tries to reach the upstream outside
// the base. Each is refused by net/http (400/501) or by the proxy.
func smuggleCases(s *stack) []struct {
	name, req string
	statuses  []int
} {
	w, r := s.authLine("writer"), s.authLine("reader")
	host := "Host: " + s.addr + "\r\n"
	tail := "GET /fhir/../up/secret HTTP/1.1\r\n" + host + w + "\r\n"
	return []struct {
		name, req string
		statuses  []int
	}{
		{"cl-and-te", "POST /fhir/Observation HTTP/1.1\r\n" + host + w + "Content-Type: application/fhir+json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + tail, []int{400}},
		{"te-and-cl", "POST /fhir/Observation HTTP/1.1\r\n" + host + w + "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n" + tail, []int{400}},
		{"duplicate-content-length", "POST /fhir/Observation HTTP/1.1\r\n" + host + w + "Content-Type: application/fhir+json\r\nContent-Length: 2\r\nContent-Length: 60\r\n\r\n{}" + tail, []int{400}},
		{"te-obfuscated", "POST /fhir/Observation HTTP/1.1\r\n" + host + w + "Content-Type: application/fhir+json\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + tail, []int{400, 501}},
		{"te-space-before-colon", "POST /fhir/Observation HTTP/1.1\r\n" + host + w + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + tail, []int{400}},
		{"te-list", "POST /fhir/Observation HTTP/1.1\r\n" + host + w + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + tail, []int{400, 501}},
		// net/http unfolds obs-fold into one value (RFC 9112 5.2 allows it):
		// no X-Injected header may come of it.
		{"obs-fold", "GET /fhir/Patient/good HTTP/1.1\r\n" + host + r + "X-Folded: a\r\n X-Injected: yes\r\n\r\n", []int{200, 400}},
		{"bare-cr-in-value", "GET /fhir/Patient/good HTTP/1.1\r\n" + host + w + "X-Value: a\rX-Injected: yes\r\n\r\n", []int{400}},
		{"nul-in-value", "GET /fhir/Patient/good HTTP/1.1\r\n" + host + w + "X-Value: a\x00b\r\n\r\n", []int{400}},
		{"space-in-header-name", "GET /fhir/Patient/good HTTP/1.1\r\n" + host + w + "X Injected: yes\r\n\r\n", []int{400}},
		{"duplicate-host", "GET /fhir/Patient/good HTTP/1.1\r\n" + host + "Host: evil.example\r\n" + w + "\r\n", []int{400}},
		{"http09", "GET /fhir/Patient/good\r\n\r\n", []int{400}},
		{"http2-version", "GET /fhir/Patient/good HTTP/2.0\r\n" + host + w + "\r\n", []int{505, 400}},
		// The body fails while it is forwarded: 502 (the upstream gets no
		// complete request).
		{"chunk-size-overflow", "POST /fhir/Observation HTTP/1.1\r\n" + host + w + "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n{}\r\n0\r\n\r\n" + tail, []int{400, 413, 502}},
	}
}

// TestHostileCallers sends hostile requests; each is refused and nothing
// that should not reaches the upstream.
func TestHostileCallers(t *testing.T) {
	s := stackFor(t)
	t.Run("paths", func(t *testing.T) {
		for _, tc := range pathCases {
			t.Run(tc.name, func(t *testing.T) {
				mark := s.up.mark()
				r := s.raw(t, s.rawGet(tc.target, "reader"))
				if tc.oo {
					assertOutcome(t, r, tc.statuses...)
				} else if !contains(tc.statuses, r.Status) {
					t.Errorf("status %d, want one of %v: %q", r.Status, tc.statuses, truncate(r.Raw))
				}
				s.assertNothingEscaped(t, mark)
				s.assertNotReached(t, mark)
			})
		}
	})
	t.Run("smuggling", func(t *testing.T) {
		for _, tc := range smuggleCases(s) {
			t.Run(tc.name, func(t *testing.T) {
				mark := s.up.mark()
				r := s.raw(t, tc.req)
				if !contains(tc.statuses, r.Status) {
					t.Errorf("status %d, want one of %v: %q", r.Status, tc.statuses, truncate(r.Raw))
				}
				s.assertNothingEscaped(t, mark)
				for _, got := range s.up.requests(mark) {
					if got.Method != http.MethodGet || !strings.HasSuffix(got.URI, "/Patient/good") {
						t.Errorf("the upstream received %s %s", got.Method, got.URI)
					}
				}
			})
		}
	})
	t.Run("oversized", func(t *testing.T) { s.oversized(t) })
	t.Run("method-override", func(t *testing.T) { s.methodOverride(t) })
	t.Run("host-and-forwarding-headers", func(t *testing.T) { s.hostGames(t) })
	t.Run("paging-tokens", func(t *testing.T) { s.pagingTokens(t) })
	t.Run("other-patient", func(t *testing.T) { s.otherPatient(t) })
	s.assertUp(t)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (s *stack) oversized(t *testing.T) {
	t.Run("header-100k", func(t *testing.T) {
		mark := s.up.mark()
		r := s.raw(t, s.rawGet("/fhir/Patient/good", "reader", "X-Big: "+strings.Repeat("b", 100<<10)+"\r\n"))
		if r.Status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", r.Status)
		}
		s.assertNotReached(t, mark)
	})
	t.Run("many-headers", func(t *testing.T) {
		mark := s.up.mark()
		var hs []string
		for i := range 2000 {
			hs = append(hs, "X-H"+strings.Repeat("h", i%7)+": "+strings.Repeat("v", 40)+"\r\n")
		}
		r := s.raw(t, s.rawGet("/fhir/Patient/good", "reader", hs...))
		if r.Status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", r.Status)
		}
		s.assertNotReached(t, mark)
	})
	big := append([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"`), bytes.Repeat([]byte("x"), 2*maxRequestBody)...)
	big = append(big, `"}}`...)
	t.Run("body-over-limit", func(t *testing.T) {
		mark := s.up.mark()
		r := s.do(t, http.MethodPost, "/fhir/Observation", "writer", big, "Content-Type", "application/fhir+json")
		assertOutcome(t, r, http.StatusRequestEntityTooLarge)
		s.assertNotReached(t, mark)
	})
	t.Run("chunked-body-over-limit", func(t *testing.T) {
		mark := s.up.mark()
		var chunked strings.Builder
		for i := 0; i < len(big); i += 64 << 10 {
			chunk := big[i:min(i+64<<10, len(big))]
			chunked.WriteString(strconv.FormatInt(int64(len(chunk)), 16) + "\r\n")
			chunked.Write(chunk)
			chunked.WriteString("\r\n")
		}
		chunked.WriteString("0\r\n\r\n")
		r := s.raw(t, "POST /fhir/Observation HTTP/1.1\r\nHost: "+s.addr+"\r\n"+s.authLine("writer")+
			"Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"+chunked.String())
		assertOutcome(t, r, http.StatusRequestEntityTooLarge)
		s.assertNotReached(t, mark)
	})
}

// methodOverride: headers an upstream framework may honour to change the
// method or the path are refused; a read-only token cannot turn a GET into
// a DELETE, nor a path into another.
func (s *stack) methodOverride(t *testing.T) {
	for _, h := range [][2]string{
		{"X-HTTP-Method-Override", "DELETE"}, {"X-HTTP-Method", "DELETE"}, {"X-Method-Override", "PUT"},
		{"X-Original-URL", "/up/secret"}, {"X-Rewrite-URL", "/up/secret"},
	} {
		t.Run(h[0], func(t *testing.T) {
			mark := s.up.mark()
			r := s.get(t, "/fhir/Patient/good", "reader", h[0], h[1])
			assertOutcome(t, r, http.StatusBadRequest)
			s.assertNotReached(t, mark)
			mark = s.up.mark()
			r = s.do(t, http.MethodPost, "/fhir/Patient/_search", "reader", []byte("name=x"), "Content-Type", "application/x-www-form-urlencoded", h[0], h[1])
			assertOutcome(t, r, http.StatusBadRequest)
			s.assertNotReached(t, mark)
		})
	}
}

// hostGames: whatever Host and forwarding headers the caller sends, the
// upstream sees its own Host and the proxy's view of the caller, and no
// answer names the upstream's address.
func (s *stack) hostGames(t *testing.T) {
	upHost := strings.TrimPrefix(s.up.srv.URL, "http://")
	for _, hdr := range [][]string{
		{"Host", "evil.example"},
		{"Host", upHost},
		{"X-Forwarded-Host", "evil.example", "X-Forwarded-For", "6.6.6.6", "Forwarded", "for=6.6.6.6;host=evil.example", "X-Forwarded-Proto", "gopher"},
		{"X-Real-IP", "6.6.6.6", "X-Forwarded-Prefix", "/../up/secret"},
	} {
		t.Run(strings.Join(hdr, "="), func(t *testing.T) {
			mark := s.up.mark()
			r := s.get(t, "/fhir/Patient/good", "reader", hdr...)
			if r.Status != http.StatusOK {
				t.Errorf("status %d: %s", r.Status, truncate(r.Body))
			}
			if bytes.Contains(r.Body, []byte(upHost)) {
				t.Errorf("the answer names the upstream's address: %s", truncate(r.Body))
			}
			s.assertNothingEscaped(t, mark)
			for _, got := range s.up.requests(mark) {
				for _, v := range got.Header.Values("X-Forwarded-Prefix") {
					t.Errorf("the upstream received X-Forwarded-Prefix %q", v)
				}
			}
		})
	}
	t.Run("absolute-form-target", func(t *testing.T) {
		mark := s.up.mark()
		r := s.raw(t, s.rawGet("http://evil.example/fhir/../up/secret", "reader"))
		if r.Status != http.StatusBadRequest {
			t.Errorf("status %d: %q", r.Status, truncate(r.Raw))
		}
		s.assertNotReached(t, mark)
	})
}

// pagedBundle is a searchset of one plain Observation of p1 with a next
// link below the upstream base.
func (s *stack) pagedBundle(page string) string {
	next := s.up.srv.URL + upBase + "/Observation?identifier=paged&page=" + page
	return `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"` + next + `"}],"entry":[{"fullUrl":"` +
		s.up.srv.URL + upBase + `/Observation/pg` + page + `","resource":{"resourceType":"Observation","id":"pg` + page +
		`","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"}},"search":{"mode":"match"}}]}`
}

// pagingTokens: a page link works for the caller it was made for until it
// expires; another caller, a forged, tampered or truncated token is refused
// without reaching the upstream.
func (s *stack) pagingTokens(t *testing.T) {
	s.up.handle("paged", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.pagedBundle(r.URL.Query().Get("page")+"1"))
	})
	first := s.get(t, "/fhir/Observation?identifier=paged", "reader")
	if first.Status != http.StatusOK {
		t.Fatalf("the paged search answered %d: %s", first.Status, truncate(first.Body))
	}
	var b struct {
		Link []struct{ Relation, URL string } `json:"link"`
	}
	if err := json.Unmarshal(first.Body, &b); err != nil || len(b.Link) == 0 {
		t.Fatalf("no page link: %v %s", err, truncate(first.Body))
	}
	u, err := url.Parse(b.Link[0].URL)
	if err != nil || !strings.HasPrefix(u.Path, "/fhir/_page/") {
		t.Fatalf("page link %q is not a proxy page link", b.Link[0].URL)
	}
	tok := strings.TrimPrefix(u.Path, "/fhir/_page/")
	page := func(t *testing.T, tok, caller string, want int) {
		t.Helper()
		mark := s.up.mark()
		r := s.get(t, "/fhir/_page/"+tok, caller)
		if want == http.StatusOK {
			if r.Status != want {
				t.Errorf("status %d, want 200: %s", r.Status, truncate(r.Body))
			}
			s.assertNothingEscaped(t, mark)
			return
		}
		assertOutcome(t, r, want)
		s.assertNotReached(t, mark)
	}
	t.Run("own-token", func(t *testing.T) { page(t, tok, "reader", http.StatusOK) })
	t.Run("replayed-by-owner", func(t *testing.T) { page(t, tok, "reader", http.StatusOK) })
	t.Run("other-caller", func(t *testing.T) { page(t, tok, "reader2", http.StatusNotFound) })
	t.Run("patient-scoped-caller", func(t *testing.T) { page(t, tok, "patient", http.StatusNotFound) })
	t.Run("forged", func(t *testing.T) { page(t, strings.Repeat("QUFB", 30), "reader", http.StatusBadRequest) })
	t.Run("tampered", func(t *testing.T) {
		b := []byte(tok)
		i := len(b) / 2
		b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
		page(t, string(b), "reader", http.StatusBadRequest)
	})
	t.Run("truncated", func(t *testing.T) { page(t, tok[:len(tok)-5], "reader", http.StatusBadRequest) })
	t.Run("with-path-appended", func(t *testing.T) { page(t, tok+"/../../secret", "reader", http.StatusBadRequest) })
	t.Run("expired", func(t *testing.T) {
		// The suite's paging_ttl is 3 s; expiry is kept in whole seconds.
		time.Sleep(4200 * time.Millisecond)
		page(t, tok, "reader", http.StatusGone)
	})
}

// otherPatient: a token with the patient context p1 reaches nothing of p2,
// whether asked directly (refused before the upstream) or by a search the
// upstream answers with p2's data too (withheld).
func (s *stack) otherPatient(t *testing.T) {
	c := s.canary("other-patient")
	p2obs := `{"resourceType":"Observation","id":"p2-obs","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p2"},` + phi(c) + `}`
	p1obs := `{"resourceType":"Observation","id":"p1-obs","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"}}`
	bundle := `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + p1obs + `,"search":{"mode":"match"}},{"resource":` + p2obs + `,"search":{"mode":"match"}}]}`
	s.up.handle("mixed", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, bundle) })
	s.up.handle("p2-obs", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p2obs) })
	s.up.handle("p2", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, `{"resourceType":"Patient","id":"p2",`+phi(c)+`}`)
	})
	for _, path := range []string{"/fhir/Patient/p2", "/fhir/Patient/p2/$everything", "/fhir/Patient/p2/Observation", "/fhir/Patient/p2/_history"} {
		t.Run("direct"+strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			mark := s.up.mark()
			r := s.get(t, path, "patient")
			assertOutcome(t, r, http.StatusNotFound)
			s.assertNoCanary(t, r)
			s.assertNotReached(t, mark)
		})
	}
	t.Run("batch", func(t *testing.T) {
		mark := s.up.mark()
		r := s.do(t, http.MethodPost, "/fhir", "patient", []byte(`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/p2"}}]}`),
			"Content-Type", "application/fhir+json")
		assertOutcome(t, r, http.StatusForbidden)
		s.assertNotReached(t, mark)
	})
	for _, path := range []string{"/fhir/Observation/p2-obs", "/fhir/Observation?identifier=mixed&patient=p2",
		"/fhir/Observation?identifier=mixed&subject=Patient/p2", "/fhir/Observation?identifier=mixed&patient=p1,p2", "/fhir/Observation?identifier=mixed"} {
		t.Run("withheld"+strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			mark := s.up.mark()
			r := s.get(t, path, "patient")
			s.assertNoCanary(t, r)
			if bytes.Contains(r.Body, []byte(`"id":"p2-obs"`)) {
				t.Errorf("p2's Observation reached a p1 token: %s", truncate(r.Body))
			}
			if r.Status == http.StatusOK && strings.Contains(path, "mixed") && !bytes.Contains(r.Body, []byte("p1-obs")) {
				t.Errorf("p1's own Observation is missing: %s", truncate(r.Body))
			}
			if r.Status != http.StatusOK {
				assertOutcome(t, r, http.StatusNotFound, http.StatusForbidden, http.StatusBadRequest)
			}
			s.assertNothingEscaped(t, mark)
		})
	}
}

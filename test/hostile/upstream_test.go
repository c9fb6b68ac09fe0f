package hostile

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// upstreamCase is one hostile upstream behaviour. build makes the handler
// from the case's canary; statuses are the answers the caller may get.
type upstreamCase struct {
	name     string
	build    func(s *stack, canary string) http.HandlerFunc
	statuses []int
}

// settle is how long a case's connection stays in use after its answer;
// the follow-up request waits for it.
var settle = map[string]time.Duration{"unsolicited-bytes-after-answer": 400 * time.Millisecond}

var (
	gateway = []int{http.StatusBadGateway}
	timeout = []int{http.StatusGatewayTimeout, http.StatusBadGateway}
)

// observation is a valid Observation carrying PHI-like values and canary.
func observation(id, canary string) string {
	return `{"resourceType":"Observation","id":"` + id + `","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"},` + phi(canary) + `}`
}

// body answers status with content type ct and body b.
func body(status int, ct, b string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		} else {
			w.Header()["Content-Type"] = nil // no sniffing either
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, b)
	}
}

// rawAnswer hijacks the connection and writes a raw HTTP response; reset
// closes it with a TCP RST instead of a FIN.
func rawAnswer(resp string, reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString(resp)
		_ = buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// trickle sends the headers, then one byte of b every gap until the caller
// goes away.
func trickle(b string, gap time.Duration, hdr bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !hdr { // nothing at all until the proxy gives up
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusOK)
		for i := 0; i < len(b); i++ {
			if _, err := w.Write([]byte{b[i]}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(gap):
			}
		}
	}
}

// gzipBomb answers a gzip body that inflates to far more than the proxy's
// limit (1 GiB of a JSON string) and ends with the canary: gzip members,
// each 1 MiB inflated, one after another (a valid multi-member stream).
func gzipBomb(canary string) http.HandlerFunc {
	member := func(s string) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = io.WriteString(zw, s)
		_ = zw.Close()
		return buf.Bytes()
	}
	head := member(`{"resourceType":"Observation","id":"bomb","note":[{"text":"`)
	fill := member(strings.Repeat("A", 1<<20))
	tail := member(canary + `"}],` + phi(canary) + `}`)
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(head)
		for range 1024 {
			if _, err := w.Write(fill); err != nil {
				return
			}
		}
		_, _ = w.Write(tail)
	}
}

// gzipped answers a gzip body declared with encoding enc.
func gzipped(b, enc string) http.HandlerFunc {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = io.WriteString(zw, b)
	_ = zw.Close()
	return body(http.StatusOK, "application/fhir+json", buf.String(), "Content-Encoding", enc)
}

// huge answers a valid JSON Observation bigger than the proxy's limit,
// with or without a Content-Length.
func huge(canary string, declared bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		head := `{"resourceType":"Observation","id":"huge",` + phi(canary) + `,"note":[{"text":"`
		filler := strings.Repeat("B", maxBodyBytes+(1<<20))
		tail := canary + `"}]}`
		w.Header().Set("Content-Type", "application/fhir+json")
		if declared {
			w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(filler)+len(tail)))
		}
		w.WriteHeader(http.StatusOK)
		for _, p := range []string{head, filler, tail} {
			if _, err := io.WriteString(w, p); err != nil {
				return
			}
		}
	}
}

func nested(depth int, canary string) string {
	return `{"resourceType":"Observation","id":"deep",` + phi(canary) + `,"extension":` + strings.Repeat("[", depth) + `"` + canary + `"` + strings.Repeat("]", depth) + `}`
}

func httpResp(status, headers, b string) string {
	return "HTTP/1.1 " + status + "\r\n" + headers + "Connection: close\r\n\r\n" + b
}

var upstreamCases = []upstreamCase{
	{"truncated-body", func(_ *stack, c string) http.HandlerFunc {
		o := observation("t", c)
		return body(http.StatusOK, "application/fhir+json", o[:len(o)-40])
	}, gateway},
	{"truncated-mid-string", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", `{"resourceType":"Observation","id":"t2","note":[{"text":"`+c)
	}, gateway},
	{"invalid-json-trailing-garbage", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", observation("g", c)+`{"x":"`+c+`"}`)
	}, gateway},
	{"invalid-json-unquoted", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", `{"resourceType":"Observation",id:`+c+`,`+phi(c)+`}`)
	}, gateway},
	{"invalid-json-nan", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", `{"resourceType":"Observation","id":"n","valueQuantity":{"value":NaN},`+phi(c)+`}`)
	}, gateway},
	{"invalid-utf8", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", `{"resourceType":"Observation","id":"u","note":[{"text":"`+c+"\xff\xfe"+`"}],`+phi(c)+`}`)
	}, gateway},
	{"duplicate-key-code", func(_ *stack, c string) http.HandlerFunc {
		// A labeller reading the first "code" sees nothing sensitive; a
		// client keeping the last would see the SUD diagnosis.
		return body(http.StatusOK, "application/fhir+json", `{"resourceType":"Condition","id":"dup","subject":{"reference":"Patient/p1"},`+
			`"code":{"coding":[{"system":"http://snomed.info/sct","code":"38341003"}]},`+
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20","display":"`+c+`"}]},`+phi(c)+`}`)
	}, gateway},
	{"duplicate-key-meta-security", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", `{"resourceType":"Observation","id":"dup2","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"}],"security":[]},`+phi(c)+`}`)
	}, gateway},
	{"duplicate-key-resourcetype", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", `{"resourceType":"Basic","resourceType":"Observation","id":"dup3",`+phi(c)+`}`)
	}, gateway},
	{"deeply-nested-json", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", nested(100000, c))
	}, gateway},
	{"nested-over-depth-limit", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", nested(200, c))
	}, gateway},
	{"gzip-bomb", func(_ *stack, c string) http.HandlerFunc { return gzipBomb(c) }, gateway},
	{"gzip-corrupt", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", "\x1f\x8b\x08\x00garbage"+c, "Content-Encoding", "gzip")
	}, gateway},
	{"gzip-truncated", func(_ *stack, c string) http.HandlerFunc {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = io.WriteString(zw, observation("gz", c))
		_ = zw.Close()
		return body(http.StatusOK, "application/fhir+json", buf.String()[:buf.Len()-12], "Content-Encoding", "gzip")
	}, gateway},
	{"content-encoding-br", func(_ *stack, c string) http.HandlerFunc { return gzipped(observation("br", c), "br") }, gateway},
	{"content-encoding-deflate", func(_ *stack, c string) http.HandlerFunc { return gzipped(observation("df", c), "deflate") }, gateway},
	{"content-encoding-double", func(_ *stack, c string) http.HandlerFunc { return gzipped(observation("dd", c), "gzip, gzip") }, gateway},
	{"content-encoding-identity-lie", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", observation("gi", c), "Content-Encoding", "gzip")
	}, gateway},
	{"content-type-text-plain", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "text/plain", observation("tp", c))
	}, gateway},
	{"content-type-missing", func(_ *stack, c string) http.HandlerFunc {
		return rawAnswer(httpResp("200 OK", "", observation("cm", c)), false)
	}, gateway},
	{"content-type-octet-stream", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/octet-stream", observation("os", c))
	}, gateway},
	{"content-type-garbage", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json; charset=\"", observation("cg", c))
	}, gateway},
	{"xml-as-fhir-xml", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+xml", `<Observation xmlns="http://hl7.org/fhir"><id value="x"/><note><text value="`+c+` Quackenbush 987-65-4320"/></note></Observation>`)
	}, gateway},
	{"xml-labelled-json", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "application/fhir+json", `<?xml version="1.0"?><Observation xmlns="http://hl7.org/fhir"><text value="`+c+` Zebulon"/></Observation>`)
	}, gateway},
	{"html-error-page-500", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusInternalServerError, "text/html", `<html><body><h1>Internal Server Error</h1><pre>NullPointerException for patient Zebulon Quackenbush SSN 987-65-4320 `+c+`</pre></body></html>`)
	}, gateway},
	{"html-page-200", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusOK, "text/html; charset=utf-8", `<html><body>Login to see Zebulon Quackenbush `+c+`</body></html>`)
	}, gateway},
	{"5xx-outcome-with-phi", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusInternalServerError, "application/fhir+json", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","diagnostics":"failed on Patient Zebulon Quackenbush 987-65-4320 `+c+`"}]}`,
			"X-Debug-Patient", c, "Set-Cookie", "s="+c, "ETag", `W/"`+c+`"`, "Warning", "199 - "+c)
	}, []int{http.StatusInternalServerError}},
	{"503-with-phi-resource", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusServiceUnavailable, "application/fhir+json", observation("e503", c), "Retry-After", c, "Location", "http://elsewhere.invalid/"+c)
	}, []int{http.StatusServiceUnavailable}},
	{"4xx-outcome-code-injection", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusBadRequest, "application/fhir+json", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"`+c+` Quackenbush","diagnostics":"`+c+`"}]}`)
	}, []int{http.StatusBadRequest}},
	{"5xx-invalid-json", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusBadGateway, "application/fhir+json", `{"resourceType":"OperationOutcome","issue":[{"code":"`+c)
	}, []int{http.StatusBadGateway}},
	{"huge-body-declared", func(_ *stack, c string) http.HandlerFunc { return huge(c, true) }, gateway},
	{"huge-body-chunked", func(_ *stack, c string) http.HandlerFunc { return huge(c, false) }, gateway},
	{"slow-trickle-body", func(_ *stack, c string) http.HandlerFunc {
		return trickle(observation("slow", c), 100*time.Millisecond, true)
	}, timeout},
	{"slow-no-headers", func(_ *stack, c string) http.HandlerFunc {
		return trickle(observation("slow2", c), 0, false)
	}, timeout},
	{"reset-before-answer", func(_ *stack, _ string) http.HandlerFunc { return rawAnswer("", true) }, gateway},
	{"reset-mid-headers", func(_ *stack, c string) http.HandlerFunc {
		return rawAnswer("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nX-Patient: "+c, true)
	}, gateway},
	{"reset-mid-body", func(_ *stack, c string) http.HandlerFunc {
		o := observation("rb", c)
		return rawAnswer(httpResp("200 OK", "Content-Type: application/fhir+json\r\nContent-Length: "+strconv.Itoa(len(o))+"\r\n", o[:len(o)/2]), true)
	}, gateway},
	{"content-length-too-long", func(_ *stack, c string) http.HandlerFunc {
		o := observation("cl", c)
		return rawAnswer(httpResp("200 OK", "Content-Type: application/fhir+json\r\nContent-Length: "+strconv.Itoa(len(o)+500)+"\r\n", o), false)
	}, gateway},
	{"content-length-too-short", func(_ *stack, c string) http.HandlerFunc {
		o := observation("cs", c)
		return rawAnswer(httpResp("200 OK", "Content-Type: application/fhir+json\r\nContent-Length: "+strconv.Itoa(len(o)-30)+"\r\n", o), false)
	}, gateway},
	{"content-length-duplicate", func(_ *stack, c string) http.HandlerFunc {
		o := observation("cd", c)
		return rawAnswer(httpResp("200 OK", "Content-Type: application/fhir+json\r\nContent-Length: 10\r\nContent-Length: "+strconv.Itoa(len(o))+"\r\n", o), false)
	}, gateway},
	{"chunked-invalid", func(_ *stack, c string) http.HandlerFunc {
		return rawAnswer(httpResp("200 OK", "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n", "zz\r\n"+observation("ci", c)+"\r\n0\r\n\r\n"), false)
	}, gateway},
	{"chunked-trailer-with-phi", func(_ *stack, c string) http.HandlerFunc {
		o := observation("ct", c)
		return rawAnswer(httpResp("200 OK", "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nTrailer: X-Patient\r\n",
			fmt.Sprintf("%x\r\n%s\r\n0\r\nX-Patient: %s\r\n\r\n", len(o)-20, o[:len(o)-20], c)), false)
	}, gateway},
	{"early-hints-with-phi", func(_ *stack, c string) http.HandlerFunc {
		// A 103 whose headers name the patient, then a final answer the
		// proxy withholds (the body is cut short).
		o := observation("eh", c)
		return rawAnswer("HTTP/1.1 103 Early Hints\r\nLink: </"+c+">; rel=preload\r\nX-Patient: "+c+"\r\n\r\n"+
			httpResp("200 OK", "Content-Type: application/fhir+json\r\nContent-Length: "+strconv.Itoa(len(o)+9)+"\r\n", o), false)
	}, gateway},
	{"status-line-garbage", func(_ *stack, c string) http.HandlerFunc {
		return rawAnswer("HTTP/1.1 2OO OK "+c+"\r\n\r\n"+observation("sg", c), false)
	}, gateway},
	{"unsolicited-bytes-after-answer", func(_ *stack, c string) http.HandlerFunc {
		// A 404 the proxy answers as missing, then, on the idle keep-alive
		// connection, bytes nobody asked for.
		nf := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`
		return func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 404 Not Found\r\nContent-Type: application/fhir+json\r\nContent-Length: " + strconv.Itoa(len(nf)) + "\r\n\r\n" + nf)
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nX-Patient: " + c + "\r\n\r\n" + observation("us", c))
			_ = buf.Flush()
			time.Sleep(200 * time.Millisecond)
		}
	}, []int{http.StatusNotFound}},
	{"http09-answer", func(_ *stack, c string) http.HandlerFunc { return rawAnswer(observation("h9", c), false) }, gateway},
	{"redirect-302-other-host-html", func(s *stack, c string) http.HandlerFunc {
		return body(http.StatusFound, "text/html", `<a href="`+s.other.srv.URL+`/`+c+`">moved</a> Quackenbush`, "Location", s.other.srv.URL+upBase+"/Observation/"+c)
	}, gateway},
	{"redirect-307-other-host-empty", func(s *stack, c string) http.HandlerFunc {
		return body(http.StatusTemporaryRedirect, "", "", "Location", s.other.srv.URL+upBase+"/Observation/"+c)
	}, gateway},
	{"redirect-301-other-host-json", func(s *stack, c string) http.HandlerFunc {
		return body(http.StatusMovedPermanently, "application/fhir+json", observation("r301", c), "Location", s.other.srv.URL+upBase+"/Patient/"+c)
	}, gateway},
	{"redirect-308-same-base", func(s *stack, c string) http.HandlerFunc {
		return body(http.StatusPermanentRedirect, "application/fhir+json", `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"`+c+`"}]}`,
			"Location", s.up.srv.URL+upBase+"/Observation/"+c)
	}, gateway},
	{"not-modified-with-body", func(_ *stack, c string) http.HandlerFunc {
		return body(http.StatusNotModified, "application/fhir+json", observation("nm", c))
	}, gateway},
}

// TestHostileUpstream sends a read, a search and a $everything for every
// hostile upstream behaviour: nothing of the upstream's body or headers reaches the caller,
// who gets an OperationOutcome, and the proxy keeps serving.
func TestHostileUpstream(t *testing.T) {
	s := stackFor(t)
	for _, tc := range upstreamCases {
		for _, kind := range []string{"read", "search", "everything"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				name := tc.name + "-" + kind
				c := s.canary(name)
				s.up.handle(name, tc.build(s, c))
				otherMark := s.other.mark()
				path := "/fhir/Observation/" + name
				switch kind {
				case "search":
					path = "/fhir/Observation?identifier=" + name
				case "everything":
					path = "/fhir/Patient/" + name + "/$everything"
				}
				r := s.get(t, path, "reader", "Accept-Encoding", "gzip")
				s.assertNoCanary(t, r)
				assertOutcome(t, r, tc.statuses...)
				if loc := r.Header.Get("Location"); loc != "" {
					t.Errorf("a Location reached the caller: %s", loc)
				}
				if got := s.other.requests(otherMark); len(got) > 0 {
					t.Errorf("the proxy followed a redirect to another host: %+v", got)
				}
				time.Sleep(settle[tc.name])
				s.assertUp(t)
			})
		}
	}
}

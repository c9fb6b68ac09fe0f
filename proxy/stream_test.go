package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

// streamBundle is a searchset of n entries, a quarter of them Part 2
// diagnoses and a quarter claims with one SUD diagnosis each (redacted for
// a caller without consent), with page links, large enough to be cut into
// several chunks.
func streamBundle(base string, n int) string {
	var rs []string
	for i := range n {
		id := strconv.Itoa(i)
		switch i % 4 {
		case 0:
			rs = append(rs, strings.Replace(sudCondition, `"id":"sud1"`, `"id":"sud`+id+`"`, 1))
		case 1:
			rs = append(rs, strings.Replace(mixedEOB, `"id":"eob1"`, `"id":"eob`+id+`"`, 1))
		default:
			rs = append(rs, strings.Replace(bpObs, `"id":"bp1"`, `"id":"bp`+id+`"`, 1))
		}
	}
	return bundle(base, n, true, rs...)
}

var pageToken = regexp.MustCompile(`/_page/[A-Za-z0-9_-]+`)

// TestStreamedMatchesBuffered sends the same Bundles through a proxy that
// renders into a buffer and one that streams every Bundle: the callers get
// the same bytes (page tokens aside, which are minted per response), the
// same headers, and the ledger the same entries.
func TestStreamedMatchesBuffered(t *testing.T) {
	t.Parallel()
	var body string
	handler := func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, body)(w, r)
	}
	buffered := newHarness(t, handler, func(o *Options, _ *Deps) { o.StreamAboveBytes = 1 << 30 })
	streamed := newHarness(t, handler, func(o *Options, _ *Deps) { o.StreamAboveBytes = 1 })
	if buffered.base() == streamed.base() {
		t.Fatal("the two harnesses share an upstream")
	}
	for _, n := range []int{0, 1, 7, 400} {
		for _, tok := range []string{tokConsented, tokOther, "Organization/org-b||user/*.read"} {
			for _, enc := range []string{"identity", "gzip"} {
				name := strconv.Itoa(n) + "/" + tok + "/" + enc
				get := func(h *harness) (*http.Response, string) {
					body = streamBundle(h.base(), n)
					resp, raw := h.get("/fhir/Condition?subject=p1", tok, "Accept-Encoding", enc)
					if resp.Header.Get("Content-Encoding") == "gzip" {
						zr, err := gzip.NewReader(strings.NewReader(raw))
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						b, err := io.ReadAll(zr)
						if err != nil {
							t.Fatalf("%s: a gzipped body that does not inflate: %v", name, err)
						}
						raw = string(b)
					} else if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(raw)) {
						t.Errorf("%s: Content-Length %q for a body of %d bytes", name, cl, len(raw))
					}
					return resp, pageToken.ReplaceAllString(raw, "/_page/TOKEN")
				}
				l0, l1 := ledgerLen(buffered), ledgerLen(streamed)
				r1, b1 := get(buffered)
				r2, b2 := get(streamed)
				if r1.StatusCode != 200 || r2.StatusCode != 200 {
					t.Fatalf("%s: status %d buffered, %d streamed: %s", name, r1.StatusCode, r2.StatusCode, b2)
				}
				b1 = strings.ReplaceAll(b1, buffered.proxy.URL, "PROXY")
				b2 = strings.ReplaceAll(b2, streamed.proxy.URL, "PROXY")
				if b1 != b2 {
					t.Errorf("%s: the streamed body differs from the buffered one:\n%s\n%s", name, b1, b2)
				}
				for _, k := range []string{"Content-Type", "Content-Encoding", "Cache-Control", "Vary", NoticeHeader} {
					if g, w := r2.Header.Values(k), r1.Header.Values(k); strings.Join(g, ",") != strings.Join(w, ",") {
						t.Errorf("%s: %s %q streamed, %q buffered", name, k, g, w)
					}
				}
				if d1, d2 := ledgerLen(buffered)-l0, ledgerLen(streamed)-l1; d1 != d2 {
					t.Errorf("%s: %d ledger entries buffered, %d streamed", name, d1, d2)
				}
				if n >= 7 && !strings.Contains(b2, "_page/TOKEN") {
					t.Errorf("%s: page links were not rewritten: %s", name, b2)
				}
			}
		}
	}
}

// processStream runs the pipeline in process on body for caller and
// returns the stream it planned.
func processStream(t *testing.T, caller authn.Caller, body string) *stream {
	t.Helper()
	u, _ := url.Parse("http://ehr/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Upstream: u, StreamAboveBytes: 1}, Deps{
		Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ex := &exchange{caller: caller, req: fhirRequest{Interaction: Search, Type: "Condition"}, publicBase: "http://proxy/fhir"}
	out, st, notFound, err := s.process(context.Background(), ex, []byte(body))
	if err != nil || notFound || out != nil || st == nil {
		t.Fatalf("process: out %d bytes, stream %v, notFound %v, err %v", len(out), st != nil, notFound, err)
	}
	return st
}

var orgA = authn.Caller{Subject: "u", Org: "Organization/org-a", Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}}

// TestStreamStopsAtADivergentChunk: should the second rendering differ from
// the first, nothing from the first differing chunk on is written, and the
// caller's read fails instead of ending cleanly.
func TestStreamStopsAtADivergentChunk(t *testing.T) {
	t.Parallel()
	st := processStream(t, orgA, streamBundle("http://ehr/fhir/R4", 600))
	if len(st.sums) < 3 {
		t.Fatalf("want a body of several chunks, got %d", len(st.sums))
	}
	var whole bytes.Buffer
	if err := st.writeTo(&whole); err != nil {
		t.Fatalf("an unchanged stream: %v", err)
	}
	if int64(whole.Len()) != st.length {
		t.Fatalf("wrote %d bytes, planned %d", whole.Len(), st.length)
	}
	st.sums[1] ^= 1 // as if the second chunk rendered differently
	var cut bytes.Buffer
	if err := st.writeTo(&cut); !errors.Is(err, errStreamDiverged) {
		t.Fatalf("got %v, want errStreamDiverged", err)
	}
	if first := whole.Bytes()[:cut.Len()]; cut.Len() == 0 || cut.Len() >= whole.Len() || !bytes.Equal(first, cut.Bytes()) {
		t.Fatalf("wrote %d of %d bytes before stopping; want the first chunk only", cut.Len(), whole.Len())
	}
	if crcOf(cut.Bytes()) != st.sums[0] {
		t.Fatal("what was written is not the first chunk")
	}
	// Through the response body: the read fails.
	sb := newStreamBody(&Server{log: slog.New(slog.DiscardHandler)}, st)
	_, err := io.ReadAll(sb)
	if !errors.Is(err, errStreamDiverged) {
		t.Fatalf("reading the body: %v, want errStreamDiverged", err)
	}
	_ = sb.Close()
}

// TestStreamBodyClosedEarly: a caller that goes away mid-body stops the
// rendering, and Close returns once it has stopped.
func TestStreamBodyClosedEarly(t *testing.T) {
	t.Parallel()
	{
		st := processStream(t, orgA, streamBundle("http://ehr/fhir/R4", 600))
		sb := newStreamBody(&Server{log: slog.New(slog.DiscardHandler)}, st)
		buf := make([]byte, 100)
		if _, err := io.ReadFull(sb, buf); err != nil {
			t.Fatal(err)
		}
		_ = sb.Close()
		select {
		case <-sb.done:
		default:
			t.Fatal("Close returned while the rendering still ran")
		}
		if _, err := sb.Read(buf); err == nil {
			t.Fatal("a read after Close succeeded")
		}
	}
	// A body closed before any read starts nothing.
	st := processStream(t, orgA, streamBundle("http://ehr/fhir/R4", 600))
	sb := newStreamBody(&Server{log: slog.New(slog.DiscardHandler)}, st)
	_ = sb.Close()
	select {
	case <-sb.done:
		t.Fatal("a rendering ran for a body nobody read")
	default:
	}
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, crcTable) }

func ledgerLen(h *harness) int {
	es, _ := h.ledger.Find(context.Background(), audit.Query{})
	return len(es)
}

// TestStreamRenderingPanicCutsTheResponse: a panic in the streamed
// rendering, which runs outside the server's recovery, cuts the response
// instead of the process.
func TestStreamRenderingPanicCutsTheResponse(t *testing.T) {
	t.Parallel()
	st := processStream(t, orgA, streamBundle("http://ehr/fhir/R4", 600))
	st.r.body = st.r.body[:len(st.r.body)/2] // the rendering slices past its end
	sb := newStreamBody(&Server{log: slog.New(slog.DiscardHandler)}, st)
	got, err := io.ReadAll(sb)
	if err == nil || int64(len(got)) >= st.length {
		t.Fatalf("read %d of %d bytes, error %v: want the response cut", len(got), st.length, err)
	}
	_ = sb.Close()
}

package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestStreamedFramingTellsNothingQA36C: whether the proxy streams a Bundle
// depends on the size of the upstream's body, withheld entries included,
// and a streamed answer gzipped for the caller went chunked, without a
// Content-Length, where a rendered one carries its length. org-b, whose
// search of p1's conditions matches one ordinary Condition, got it with a
// Content-Length when that was all the server held, and chunked when the
// server also held an SUD condition (withheld from org-b) large enough to
// take the body past stream_above_bytes: a tell that something was
// withheld, and of its size. Both answers must be the same.
func TestStreamedFramingTellsNothingQA36C(t *testing.T) {
	t.Parallel()
	visible := `{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},"code":{"text":"hypertension"},"note":[{"text":"` + strings.Repeat("stable on treatment. ", 100) + `"}]}`
	hidden := strings.Replace(sudCondition, `"subject"`, `"note":[{"text":"`+strings.Repeat("seen at the clinic. ", 400)+`"}],"subject"`, 1)
	answer := func(withHidden bool) (http.Header, int64, []byte) {
		entries := []string{match(visible)}
		if withHidden {
			entries = append(entries, match(hidden))
		}
		h := newHarness(t, fhirJSONHandler(200, searchset(entries...)), func(o *Options, _ *Deps) { o.StreamAboveBytes = 6 << 10 })
		resp, body := h.get("/fhir/Condition?patient=Patient/p1", tokOther, "Accept-Encoding", "gzip")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("want a gzipped 200: %d %v", resp.StatusCode, resp.Header)
		}
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || bytes.Contains(plain, []byte("F11.20")) || !bytes.Contains(plain, []byte(`"c2"`)) {
			t.Fatalf("want c2 alone: %v %s", err, plain)
		}
		hdr := resp.Header.Clone()
		hdr.Del("X-Request-Id")
		hdr.Del("Date")
		return hdr, resp.ContentLength, []byte(body)
	}
	h0, n0, b0 := answer(false)
	h1, n1, b1 := answer(true)
	if n0 != n1 || !headersEqual(h0, h1) || !bytes.Equal(b0, b1) {
		t.Fatalf("the answers differ:\nwithout the withheld condition: length %d %v\nwith it: length %d %v", n0, h0, n1, h1)
	}
}

func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

package proxy

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRangeNeverReachesUpstreamQA21C (QA round 21, area C): a caller's
// Range header was forwarded. An upstream that honours it (a server or a
// cache in front of it that serves byte ranges) answers a withheld
// resource 206 with a piece of JSON, which the proxy cannot read and
// answered 502, while a missing one answered 404: the status told that the
// resource exists.
func TestRangeNeverReachesUpstreamQA21C(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/Condition/sud1") {
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader([]byte(storedSUD)))
	})
	for _, hdr := range [][]string{{"Range", "bytes=0-20"}, {"Range", "bytes=0-20", "If-Range", `W/"3"`}} {
		withheld, wb := h.get("/fhir/Condition/sud1", tokOther, hdr...)
		missing, mb := h.get("/fhir/Condition/none", tokOther, hdr...)
		if withheld.StatusCode != missing.StatusCode || withheld.StatusCode != http.StatusNotFound {
			t.Errorf("%v: withheld %d %s, missing %d %s", hdr, withheld.StatusCode, wb, missing.StatusCode, mb)
		}
		// The consented caller gets the whole resource, not a piece.
		if resp, body := h.get("/fhir/Condition/sud1", tokConsented, hdr...); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
			t.Errorf("%v, consented: %d %s", hdr, resp.StatusCode, body)
		}
	}
}

// TestProvenanceHeaderRefusedQA21C (QA round 21, area C): X-Provenance
// (FHIR R4 http.html; Microsoft's FHIR server writes it) carries a whole
// Provenance resource the server creates beside the write, past every
// check the proxy makes of what is written: its labels, the references it
// holds to resources the caller may not read. Refused, and never forwarded.
func TestProvenanceHeaderRefusedQA21C(t *testing.T) {
	t.Parallel()
	up := &writeUpstream{writes: make(chan string, 4)}
	h := newHarness(t, up.handler)
	prov := `{"resourceType":"Provenance","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"L"}]},"entity":[{"role":"source","what":{"reference":"Condition/sud1"}}],"agent":[{"who":{"reference":"Practitioner/x"}}],"recorded":"2026-01-01T00:00:00Z"}`
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/fhir/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`},
		{"PUT", "/fhir/Condition/sud1", storedSUD},
		{"POST", "/fhir", `{"resourceType":"Bundle","type":"transaction","entry":[]}`},
		{"GET", "/fhir/Condition/sud1", ""},
	} {
		resp, body := h.do(c.method, c.path, tokAll, "application/fhir+json", c.body, "X-Provenance", prov)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "X-Provenance") {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	if n := len(up.writes); n != 0 {
		t.Errorf("%d writes reached the upstream", n)
	}
}

// TestSecurityContextHeaderRefused (QA round 22, area A proposed it):
// X-Security-Context sets a raw Binary's securityContext, the resource
// governing access to it, past the write checks that read the Binary's
// own securityContext. Refused, and never forwarded.
func TestSecurityContextHeaderRefused(t *testing.T) {
	t.Parallel()
	up := &writeUpstream{writes: make(chan string, 4)}
	h := newHarness(t, up.handler)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/fhir/Binary", `{"resourceType":"Binary","contentType":"text/plain","data":"eA==","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}`},
		{"PUT", "/fhir/Binary/b1", `{"resourceType":"Binary","id":"b1","contentType":"text/plain","data":"eA=="}`},
		{"GET", "/fhir/Binary/b1", ""},
	} {
		resp, body := h.do(c.method, c.path, tokAll, "application/fhir+json", c.body, "X-Security-Context", "Condition/sud1")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "X-Security-Context") {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	if n := len(up.writes); n != 0 {
		t.Errorf("%d writes reached the upstream", n)
	}
}

// TestAcceptCharsetNeverReachesUpstreamQA21C (QA round 21, area C): the
// caller's Accept-Charset was forwarded. An upstream honouring it encodes
// its answer in Latin-1, which the proxy reads as UTF-8: a search whose
// withheld match has a non-ASCII character failed (502) where one matching
// nothing, or only ASCII, answered 200, telling a withheld match exists.
func TestAcceptCharsetNeverReachesUpstreamQA21C(t *testing.T) {
	t.Parallel()
	withNote := strings.Replace(sudCondition, `"code":{`, "\"note\":[{\"text\":\"Jos\u00e9's intake\"}],\"code\":{", 1)
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		var b string
		if r.URL.Query().Get("code") == "F11.20" {
			b = bundle(h.base(), 1, false, withNote)
		} else {
			b = bundle(h.base(), 0, false)
		}
		if strings.Contains(strings.ToLower(r.Header.Get("Accept-Charset")), "iso-8859-1") {
			var latin1 []byte
			for _, c := range b {
				if c < 0x100 {
					latin1 = append(latin1, byte(c))
				}
			}
			w.Header().Set("Content-Type", "application/fhir+json; charset=ISO-8859-1")
			_, _ = w.Write(latin1)
			return
		}
		fhirJSONHandler(200, b)(w, r)
	})
	withheld, wb := h.get("/fhir/Condition?code=F11.20", tokOther, "Accept-Charset", "iso-8859-1")
	none, nb := h.get("/fhir/Condition?code=none", tokOther, "Accept-Charset", "iso-8859-1")
	if withheld.StatusCode != 200 || none.StatusCode != 200 || wb != nb {
		t.Errorf("withheld match %d %s\nno match %d %s", withheld.StatusCode, wb, none.StatusCode, nb)
	}
}

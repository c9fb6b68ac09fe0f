package proxy

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// expressETag is Express's default ETag: W/"<length in hex>-<SHA-1 in
// base64, 27 characters>" of the body sent.
func expressETag(body string) string {
	sum := sha1.Sum([]byte(body))
	return `W/"` + strconv.FormatInt(int64(len(body)), 16) + "-" + base64.StdEncoding.EncodeToString(sum[:])[:27] + `"`
}

// TestVersionHeadersQA21C (QA round 21, area C): every weak ETag and every
// Last-Modified of the upstream went to the caller, on Bundles too. An
// upstream that tags its answers by their bytes (Express, under Medplum
// and other Node servers, does by default) tags the page it sent, withheld
// entries included: a search whose one match was withheld answered
// another ETag (and length in it) than a search matching nothing; and a
// read cut for the caller carried the hash of the uncut resource, against
// which a caller can test guesses of what was cut.
func TestVersionHeadersQA21C(t *testing.T) {
	t.Parallel()
	const lastMod = "Mon, 02 Jan 2023 03:04:05 GMT"
	var h *harness
	var bodyTags atomic.Bool
	bodyTags.Store(true)
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		var b string
		switch {
		case strings.HasSuffix(r.URL.Path, "/Observation/bp1"):
			b = strings.Replace(bpObs, `"id":"bp1",`, `"id":"bp1","meta":{"versionId":"3"},`, 1)
		case r.URL.Query().Get("code") == "F11.20":
			b = bundle(h.base(), 1, false, sudCondition)
		default:
			b = bundle(h.base(), 0, false)
		}
		if bodyTags.Load() {
			w.Header().Set("ETag", expressETag(b))
		} else {
			w.Header().Set("ETag", `W/"3"`)
		}
		w.Header().Set("Last-Modified", lastMod)
		fhirJSONHandler(200, b)(w, r)
	})
	withheld, wb := h.get("/fhir/Condition?code=F11.20", tokOther)
	none, nb := h.get("/fhir/Condition?code=none", tokOther)
	for _, r := range []*http.Response{withheld, none} {
		r.Header.Del("Date")
		r.Header.Del("X-Request-Id")
	}
	if wb != nb || !equalHeaders(withheld.Header, none.Header) {
		t.Errorf("withheld match %v %s\nno match %v %s", withheld.Header, wb, none.Header, nb)
	}
	if withheld.Header.Get("ETag") != "" || withheld.Header.Get("Last-Modified") != "" {
		t.Errorf("a Bundle's ETag or Last-Modified passed: %v", withheld.Header)
	}
	// One resource: its version tag and time pass, a hash of its bytes
	// does not.
	resp, body := h.get("/fhir/Observation/bp1", tokOther)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != lastMod {
		t.Errorf("read, body-hash ETag: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	bodyTags.Store(false)
	resp, body = h.get("/fhir/Observation/bp1", tokOther)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `W/"3"` || resp.Header.Get("Last-Modified") != lastMod {
		t.Errorf("read, version ETag: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

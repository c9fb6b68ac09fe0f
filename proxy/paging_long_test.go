package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A search by many ids (a query of some KB, which the listener takes) pages
// through the proxy: its page token, a third longer than the query, is
// accepted on the way back. Tokens past 8 KiB were minted and then refused
// as no FHIR REST path.
func TestLongPageLinkFollows(t *testing.T) {
	t.Parallel()
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = "0f8fad5b-d9cb-469f-a165-70867728950" + string(rune('a'+i%26))
	}
	query := "_id=" + strings.Join(ids, ",") + "&_offset=20"
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":[`+
			`{"relation":"next","url":"`+h.base()+`/Observation?`+query+`"}],`+
			`"entry":[{"resource":`+bpObs+`}]}`)(w, r)
	})
	resp, body := h.get("/fhir/Observation?_id="+strings.Join(ids, ","), tokConsented)
	<-h.seen
	next := pageLinksOf(t, body)["next"]
	if resp.StatusCode != 200 || next == "" {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	if n := len(next); n < 12<<10 {
		t.Fatalf("the link is %d bytes: the test needs one longer than the old 8 KiB bound", n)
	}
	resp, body = h.get(strings.TrimPrefix(next, h.proxy.URL), tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("following next: %d %s", resp.StatusCode, body)
	}
	if up := <-h.seen; up.URL.RawQuery != query {
		t.Fatalf("upstream got another query (%d bytes)", len(up.URL.RawQuery))
	}
}

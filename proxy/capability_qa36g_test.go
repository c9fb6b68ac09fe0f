package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestTerminologyCapabilitiesOnProxyBaseQA36G: /metadata?mode=terminology
// names no URL under the upstream's base. The server answers it with a
// TerminologyCapabilities (FHIR R4 3.1.0.2.1), which capabilityView
// returned untouched as "no CapabilityStatement": its implementation.url
// (the server's own base) and url went out as the server wrote them, the
// upstream's address e5618d9 keeps out of the CapabilityStatement.
func TestTerminologyCapabilitiesOnProxyBaseQA36G(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("mode") != "terminology" {
			fhirJSONHandler(200, upstreamCapabilities(h.base()))(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"TerminologyCapabilities","url":"`+h.base()+`/TerminologyCapabilities/tx",`+
			`"status":"active","date":"2026-01-01","kind":"instance","implementation":{"description":"EHR","url":"`+h.base()+`"},`+
			`"codeSystem":[{"uri":"http://loinc.org"}]}`)(w, r)
	})
	resp, body := h.get("/fhir/metadata?mode=terminology", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, h.upstream.URL) {
		t.Errorf("the upstream's address is served: %s", body)
	}
	for _, want := range []string{
		`{"resourceType":"TerminologyCapabilities",`,
		`"url":"` + h.proxy.URL + `/fhir"`,
		`"url":"` + h.proxy.URL + `/fhir/TerminologyCapabilities/tx"`,
		`"uri":"http://loinc.org"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("want %s in %s", want, body)
		}
	}
}

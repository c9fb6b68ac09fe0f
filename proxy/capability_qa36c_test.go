package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCapabilityOperationDefinitionsOnProxyBaseQA36C: /metadata names no
// URL under the upstream's base. HAPI FHIR publishes the OperationDefinition
// of each of its operations under its own base
// (<base>/OperationDefinition/Patient-i-everything), which went out as
// written beside the implementation.url the proxy rewrites: the upstream's
// address, which callers are not to reach, in every client's /metadata.
// Such a URL is served on the proxy's base; a canonical elsewhere stays.
func TestCapabilityOperationDefinitionsOnProxyBaseQA36C(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		cs := strings.Replace(upstreamCapabilities(h.base()), `{"name":"everything","definition":"x"}`,
			`{"name":"everything","definition":"`+h.base()+`/OperationDefinition/Patient-i-everything"}`, 1)
		fhirJSONHandler(200, cs)(w, r)
	})
	resp, body := h.get("/fhir/metadata", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, h.upstream.URL) {
		t.Errorf("the upstream's address is served: %s", body)
	}
	if !strings.Contains(body, `"definition":"`+h.proxy.URL+`/fhir/OperationDefinition/Patient-i-everything"`) {
		t.Errorf("the operation's definition is not on the proxy's base: %s", body)
	}
}

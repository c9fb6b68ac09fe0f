package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUpstreamRedirectWithheld: a redirect from the FHIR server is neither
// followed nor passed on; its body (here a permitted resource) and its
// Location (here below the upstream base, which would be rewritten to the
// proxy's) do not reach the caller, who gets a 502 OperationOutcome.
func TestUpstreamRedirectWithheld(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var h *harness
		h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", h.base()+"/Observation/elsewhere")
			fhirJSONHandler(status, bpObs)(w, r)
		})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest(http.MethodGet, h.proxy.URL+"/fhir/Observation/bp1", nil)
		req.Header.Set("Authorization", "Bearer "+tokConsented)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "OperationOutcome") || strings.Contains(body, "60.40") {
			t.Errorf("upstream %d: got %d %s", status, resp.StatusCode, body)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("upstream %d: Location %q reached the caller", status, loc)
		}
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

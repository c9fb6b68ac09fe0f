package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsentConditionalCreateRefused: a POST /admin/Consent with
// If-None-Exist was stored as a plain create, so a client retrying a
// conditional create stored a second copy each time. It is refused, 400
// with an OperationOutcome, and nothing is stored; a plain create still is.
func TestConsentConditionalCreateRefused(t *testing.T) {
	t.Parallel()
	a := newConsentAPI(t, http.StatusOK)
	body := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
	for _, v := range []string{"identifier=http://example.org/consents|c-17", ""} {
		code, _, resp := a.call(http.MethodPost, "/admin/Consent", body, "If-None-Exist", v)
		if code != http.StatusBadRequest || !strings.Contains(resp, "OperationOutcome") || !strings.Contains(resp, "If-None-Exist") {
			t.Errorf("If-None-Exist %q: %d %s, want 400 naming the header", v, code, resp)
		}
	}
	_, _, list := a.call(http.MethodGet, "/admin/Consent", "")
	if strings.Contains(list, `"resource"`) {
		t.Errorf("a refused conditional create stored a consent: %s", list)
	}
	if code, _, resp := a.call(http.MethodPost, "/admin/Consent", body); code != http.StatusCreated {
		t.Errorf("plain create: %d %s", code, resp)
	}
	if _, _, list := a.call(http.MethodGet, "/admin/Consent", ""); strings.Count(list, `"resourceType":"Consent"`) != 1 {
		t.Errorf("after one create: %s", list)
	}
}

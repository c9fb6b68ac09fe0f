package proxy

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestConsentAPINamesItsAuthor: every version the admin API writes (create,
// update, revoke) names its caller in the stored record, as the command
// line's writes name their user (QA round 19 left the admin API's
// "(not recorded)" in ds4p consent list and show --history).
func TestConsentAPINamesItsAuthor(t *testing.T) {
	t.Parallel()
	a := newConsentAPI(t, http.StatusOK)
	body := strings.Replace(apiConsent, "ORG", "Organization/org-a", 1)
	code, _, resp := a.call(http.MethodPost, "/admin/Consent", body)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, resp)
	}
	id, _, _ := resourceOf(t, resp)
	withID := strings.Replace(body, `"resourceType":"Consent",`, `"resourceType":"Consent","id":"`+id+`",`, 1)
	if code, _, resp := a.call(http.MethodPut, "/admin/Consent/"+id, withID); code != http.StatusOK {
		t.Fatalf("update: %d %s", code, resp)
	}
	if code, _, resp := a.call(http.MethodPost, "/admin/Consent/"+id+"/$revoke", ""); code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, resp)
	}
	recs, err := a.store.History(context.Background(), id)
	if err != nil || len(recs) != 3 {
		t.Fatalf("history: %d versions, %v", len(recs), err)
	}
	for _, r := range recs {
		if !strings.HasPrefix(r.Author, "admin API by ") || !strings.Contains(r.Author, "org Organization/ops") {
			t.Errorf("version %d: author %q, want the admin API's caller", r.Version, r.Author)
		}
	}
}

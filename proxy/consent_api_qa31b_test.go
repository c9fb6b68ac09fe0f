package proxy

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestConsentAPIRefusesPermitOfAnotherServersRecordQA31B: a consent
// written through the admin API whose permit names, in provision.data, a
// resource under another server's base (https://hie.example/fhir/...)
// was stored (201), yet since 279efe3 such a permit matches no item: the
// compliance officer believed the record disclosed. It is refused now with
// 422 and an OperationOutcome naming the element, nothing stored, on POST
// and PUT, also when the foreign reference sits in a provision above the
// permit (which the permit's rule includes). A reference relative or under
// the upstream's own base, a deny naming another server's record (read
// as Type/id, withholding), and a consent not in force (a revocation by
// update) are still accepted. Not parallel: the test of
// local bases is process-wide (QA round 31, area B).
func TestConsentAPIRefusesPermitOfAnotherServersRecordQA31B(t *testing.T) {
	defer consent.SetLocalServer(nil)
	a := newConsentAPI(t, http.StatusOK)
	up, _ := url.Parse(a.upstream.URL + "/fhir/R4")
	consent.SetLocalServer(LocalServer(up, nil))
	permit := func(ref string) string {
		return strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1),
			`"code":"TREAT"}]`, `"code":"TREAT"}],"data":[{"meaning":"instance","reference":{"reference":"`+ref+`"}}]`, 1)
	}
	// A deny at the root naming the other server's record, a permit under it.
	denyAbove := func(ref string) string {
		return strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1),
			`"provision":{"type":"deny",`, `"provision":{"type":"deny","data":[{"meaning":"instance","reference":{"reference":"`+ref+`"}}],`, 1)
	}
	foreign := "https://hie.example/fhir/Condition/sud1"
	for _, tt := range []struct {
		name, method, path, body string
		want                     int
		wantExpr                 string
	}{
		{"POST, another server's record", http.MethodPost, "/admin/Consent", permit(foreign), 422, "Consent.provision.provision[0].data[0].reference.reference"},
		{"POST, a version of another server's record", http.MethodPost, "/admin/Consent", permit(foreign + "/_history/2"), 422, "Consent.provision.provision[0].data[0].reference.reference"},
		{"PUT, another server's record", http.MethodPut, "/admin/Consent/c9", strings.Replace(permit(foreign), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c9",`, 1), 422, "Consent.provision.provision[0].data[0].reference.reference"},
		{"POST, in the deny above the permit", http.MethodPost, "/admin/Consent", denyAbove(foreign), 422, "Consent.provision.data[0].reference.reference"},
		{"POST, relative", http.MethodPost, "/admin/Consent", permit("Condition/sud1"), 201, ""},
		{"PUT, revoking by status inactive", http.MethodPut, "/admin/Consent/c8", strings.Replace(strings.Replace(permit(foreign), `"resourceType":"Consent",`, `"resourceType":"Consent","id":"c8",`, 1), `"status":"active"`, `"status":"inactive"`, 1), 201, ""},
		{"POST, under the upstream's base", http.MethodPost, "/admin/Consent", permit(up.String() + "/Condition/sud1"), 201, ""},
	} {
		before, err := a.store.Search(context.Background(), consent.Query{})
		if err != nil {
			t.Fatal(err)
		}
		code, _, body := a.call(tt.method, tt.path, tt.body)
		if code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, code, body, tt.want)
			continue
		}
		if tt.want != 422 {
			continue
		}
		assertOutcome(t, tt.name, body)
		if !strings.Contains(body, `"business-rule"`) || !strings.Contains(body, tt.wantExpr) || !strings.Contains(body, "hie.example") {
			t.Errorf("%s: the outcome does not say which element and why: %s", tt.name, body)
		}
		after, err := a.store.Search(context.Background(), consent.Query{})
		if err != nil || len(after) != len(before) {
			t.Errorf("%s: the store holds %d consents, %d before (%v): something was stored", tt.name, len(after), len(before), err)
		}
	}
	// A deny of another server's record withholds the local one of that
	// Type/id (read as Type/id): accepted.
	deny := strings.Replace(permit(foreign), `"provision":{"type":"deny","provision":[{"type":"permit",`, `"provision":{"type":"permit","provision":[{"type":"deny",`, 1)
	if code, _, body := a.call(http.MethodPost, "/admin/Consent", deny); code != 201 {
		t.Errorf("a deny of another server's record: %d %s, want 201", code, body)
	}
}

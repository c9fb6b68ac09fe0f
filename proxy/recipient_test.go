package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

// recipientAuth is org-a for treatment; tokens "named" carry the
// recipient's name and address as claims, tokens "npi" only an identifier of
// the organisation (Org empty), anything else neither.
type recipientAuth struct{}

func (recipientAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	c := authn.Caller{Subject: "dr", Org: "Organization/org-a", Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}}
	switch raw {
	case "named":
		c.OrgName, c.OrgAddress = "Token Clinic", "2 Claim Rd"
	case "npi":
		c.Org, c.OrgIdentifiers = "", []string{"http://hl7.org/fhir/sid/us-npi|1234567893"}
	}
	return c, nil
}

// TestLedgerRecipientNameAddress checks that a disclosure's ledger entry
// names the recipient with the token's name and address claims, else with
// the directory entry of the caller's organisation (by reference or by
// identifier), and that the accounting of disclosures shows them.
func TestLedgerRecipientNameAddress(t *testing.T) {
	t.Parallel()
	dir, err := consent.ParseDirectory([]byte(`entries:
  - reference: Organization/org-a
    identifiers: ["http://hl7.org/fhir/sid/us-npi|1234567893"]
    name: Riverside Clinic
    address: 1 Main St, Springfield
`))
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(fhirJSONHandler(http.StatusOK, bpObs))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	ledger := &fakeLedger{}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: ledger, Auth: recipientAuth{}, Consents: &fakeConsents{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.UseConsentSources(context.Background(), ConsentSources{Directory: dir}); err != nil {
		t.Fatal(err)
	}
	px := httptest.NewServer(srv.Handler())
	t.Cleanup(px.Close)
	h := &harness{t: t, proxy: px, ledger: ledger}
	for _, tt := range []struct{ token, name, address string }{
		{"named", "Token Clinic", "2 Claim Rd"},
		{"plain", "Riverside Clinic", "1 Main St, Springfield"},
		{"npi", "Riverside Clinic", "1 Main St, Springfield"},
	} {
		if resp, body := h.get("/fhir/Observation/bp1", tt.token); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.token, resp.StatusCode, body)
		}
		ledger.mu.Lock()
		e := ledger.entries[len(ledger.entries)-1]
		ledger.mu.Unlock()
		if e.Caller.Name != tt.name || e.Caller.Address != tt.address {
			t.Errorf("%s: ledger recipient %q / %q, want %q / %q", tt.token, e.Caller.Name, e.Caller.Address, tt.name, tt.address)
		}
		if r := audit.DisclosureOf(e).Recipient; r.Name != tt.name || r.Address != tt.address {
			t.Errorf("%s: accounting recipient %+v", tt.token, r)
		}
	}
}

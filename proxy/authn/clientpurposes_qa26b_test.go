package authn_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// A token that names no client takes the client its connection's
// certificate names (BindClient), and auth.client_purposes holds for that
// client as for one the token names: the purposes were limited when the
// token was verified, for no client, and a payer's app identified by its
// certificate alone stated TREAT and had it (QA round 26, area B). The
// limit applies to a copy: the verified token's cached caller keeps the
// purposes it states, so the same token over another connection is read
// afresh.
func TestClientPurposesHoldForTheCertificatesClient(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := authn.DevSigningKey(dir, true); err != nil {
		t.Fatal(err)
	}
	keys, err := authn.DevPublicKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := authn.NewVerifier(context.Background(), authn.Config{
		DevKeys: keys, Issuer: authn.DevIssuer, Audience: authn.DevAudience, Skew: 5 * time.Second,
		ClientPurposes: map[string][]string{"payer-app": {"HPAYMT"}, "spiffe://payer/app": {"HOPERAT"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := authn.MintDev(dir, authn.DevClaims{Subject: "s", Org: "Organization/o", Purposes: []string{"TREAT", "HPAYMT"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cn, uri string
		want    []string
	}{
		{"payer-app", "", []string{authn.NotAllowedPurpose, "HPAYMT"}},
		{"other", "spiffe://payer/app", []string{authn.NotAllowedPurpose, authn.NotAllowedPurpose}},
		{"ehr", "", []string{"TREAT", "HPAYMT"}}, // not named: not limited
		{"payer-app", "", []string{authn.NotAllowedPurpose, "HPAYMT"}},
	} {
		caller, err := v.Verify(context.Background(), tok) // the cached caller after the first
		if err != nil {
			t.Fatal(err)
		}
		var uris []string
		if c.uri != "" {
			uris = []string{c.uri}
		}
		if err := authn.BindClient(&caller, verified(c.cn, uris...)); err != nil {
			t.Fatalf("%s: %v", c.cn, err)
		}
		if !slices.Equal(caller.Purposes, c.want) {
			t.Errorf("token without a client over %s %s: client %q, purposes %v, want %v", c.cn, c.uri, caller.Client, caller.Purposes, c.want)
		}
	}
	// No certificate: the token's own purposes, unlimited (no client).
	caller, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := authn.BindClient(&caller, nil); err != nil || !slices.Equal(caller.Purposes, []string{"TREAT", "HPAYMT"}) {
		t.Errorf("without a certificate: %v, purposes %v", err, caller.Purposes)
	}
}

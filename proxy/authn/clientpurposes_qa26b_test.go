package authn_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
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
	dir, v := newDevVerifier(t, authn.Config{
		ClientPurposes: map[string][]string{"payer-app": {"HPAYMT"}, "spiffe://payer/app": {"HOPERAT"}},
	})
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

// A token whose client_id and azp name different clients is limited by
// each one's auth.client_purposes: only the client_id's held (QA round
// 26, area B).
func TestClientPurposesHoldForAzp(t *testing.T) {
	t.Parallel()
	dir, v := newDevVerifier(t, authn.Config{CacheSize: -1,
		ClientPurposes: map[string][]string{"payer-app": {"HPAYMT"}, "ehr": {"TREAT", "HPAYMT"}},
	})
	mint := devTokenMakerWith(t, dir, v)
	for _, c := range []struct {
		claims map[string]any
		want   []string
	}{
		{map[string]any{"client_id": "ehr", "azp": "payer-app"}, []string{authn.NotAllowedPurpose, "HPAYMT"}},
		{map[string]any{"client_id": "payer-app", "azp": "ehr"}, []string{authn.NotAllowedPurpose, "HPAYMT"}},
		{map[string]any{"client_id": "ehr", "azp": "ehr"}, []string{"TREAT", "HPAYMT"}},
		{map[string]any{"client_id": "other", "azp": "ehr"}, []string{"TREAT", "HPAYMT"}},
		{map[string]any{"azp": "payer-app"}, []string{authn.NotAllowedPurpose, "HPAYMT"}},
	} {
		c.claims["purpose_of_use"] = []string{"TREAT", "HPAYMT"}
		if got := mint(c.claims).Purposes; !slices.Equal(got, c.want) {
			t.Errorf("%v: purposes %v, want %v", c.claims, got, c.want)
		}
	}
}

// devTokenMakerWith signs tokens with dir's dev key (claims added to a
// valid token) and verifies them with v.
func devTokenMakerWith(t *testing.T, dir string, v *authn.Verifier) func(claims map[string]any) authn.Caller {
	t.Helper()
	key, err := authn.DevSigningKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return func(claims map[string]any) authn.Caller {
		t.Helper()
		b := jwt.NewBuilder().Issuer(authn.DevIssuer).Audience([]string{authn.DevAudience}).Subject("s").
			IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour))
		for k, val := range claims {
			b = b.Claim(k, val)
		}
		tok, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), string(signed))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

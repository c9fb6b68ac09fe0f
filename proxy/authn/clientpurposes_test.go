package authn_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestClientPurposes: with auth.client_purposes, a purpose the caller's
// client is not given counts as unknown (a payer's app stating TREAT gets
// what an unknown purpose gets); its own purposes, in any spelling a token
// may use, stay; a client not named is not limited.
func TestClientPurposes(t *testing.T) {
	t.Parallel()
	dir, v := newDevVerifier(t, authn.Config{CacheSize: -1,
		ClientPurposes: map[string][]string{"payer-app": {"HPAYMT", "urn:oid:2.16.840.1.113883.5.8|HOPERAT"}},
	})
	for _, c := range []struct {
		client   string
		purposes []string
		want     []string
	}{
		{"payer-app", []string{"TREAT"}, []string{authn.NotAllowedPurpose}},
		{"payer-app", []string{"HPAYMT", "ETREAT"}, []string{"HPAYMT", authn.NotAllowedPurpose}},
		{"payer-app", []string{"http://terminology.hl7.org/CodeSystem/v3-ActReason|HOPERAT"}, []string{"HOPERAT"}},
		{"ehr", []string{"TREAT"}, []string{"TREAT"}},
	} {
		tok, err := authn.MintDev(dir, authn.DevClaims{Subject: "s", Org: "Organization/o", Client: c.client, Purposes: c.purposes})
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Purposes, c.want) {
			t.Errorf("%s stating %v: purposes %v, want %v", c.client, c.purposes, got.Purposes, c.want)
		}
	}
}

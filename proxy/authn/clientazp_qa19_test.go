package authn_test

import (
	"errors"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestBindClientAzpAndClientID: a token whose client_id and azp name
// different clients is bound only when both are the certificate's client;
// one naming its client in either claim alone, or in both alike, binds as
// before.
func TestBindClientAzpAndClientID(t *testing.T) {
	t.Parallel()
	token := devTokenMaker(t)
	cert := verified("app-a")
	for _, tt := range []struct {
		name       string
		claims     map[string]any
		wantErr    bool
		wantClient string
	}{
		{"client_id only", map[string]any{"client_id": "app-a"}, false, "app-a"},
		{"azp only", map[string]any{"azp": "app-a"}, false, "app-a"},
		{"both alike", map[string]any{"client_id": "app-a", "azp": "app-a"}, false, "app-a"},
		{"neither", nil, false, "app-a"},
		{"azp another client", map[string]any{"client_id": "app-a", "azp": "app-b"}, true, ""},
		{"client_id another client", map[string]any{"client_id": "app-b", "azp": "app-a"}, true, ""},
		{"azp only, another client", map[string]any{"azp": "app-b"}, true, ""},
	} {
		caller := token(tt.claims)
		err := authn.BindClient(&caller, cert)
		if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, authn.ErrClientCertificate) {
			t.Errorf("%s: %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err == nil && caller.Client != tt.wantClient {
			t.Errorf("%s: client %q, want %q", tt.name, caller.Client, tt.wantClient)
		}
	}
	// Without a certificate the token's client is its client_id, as before.
	if c := token(map[string]any{"client_id": "app-a", "azp": "app-b"}); authn.BindClient(&c, nil) != nil || c.Client != "app-a" {
		t.Errorf("no certificate: client %q", c.Client)
	}
}

// devTokenMaker returns a function that signs a dev token (subject s, an
// hour's expiry) with claims added and verifies it, in a data directory of
// its own.
func devTokenMaker(t *testing.T) func(claims map[string]any) authn.Caller {
	t.Helper()
	dir, v := newDevVerifier(t, authn.Config{})
	return devTokenMakerWith(t, dir, v)
}

package authn_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// newDevVerifier makes a development signing key in a directory of its own
// and returns the directory and a verifier of its tokens: cfg's settings
// with the dev keys, issuer and audience (and a skew of 5s when cfg sets
// none).
func newDevVerifier(t *testing.T, cfg authn.Config) (string, *authn.Verifier) {
	t.Helper()
	dir := t.TempDir()
	if _, err := authn.DevSigningKey(dir, true); err != nil {
		t.Fatal(err)
	}
	keys, err := authn.DevPublicKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DevKeys, cfg.Issuer, cfg.Audience = keys, authn.DevIssuer, authn.DevAudience
	if cfg.Skew == 0 {
		cfg.Skew = 5 * time.Second
	}
	v, err := authn.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, v
}

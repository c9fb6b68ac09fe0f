package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientPurposesConfig: auth.client_purposes is read from the config
// file, and a purpose that is no v3-PurposeOfUse code is refused at start
// with the code it most likely meant: a typo would refuse the client the
// purpose it is given.
func TestClientPurposesConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := []string{"--upstream", "http://fhir.example/r4", "--dev-auth"}
	cfg, err := loadConfig(append(base, "--config", write("auth:\n  client_purposes:\n    payer-app: [HPAYMT, HOPERAT]\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Auth.ClientPurposes["payer-app"]; len(got) != 2 || got[0] != "HPAYMT" {
		t.Fatalf("client_purposes = %v", cfg.Auth.ClientPurposes)
	}
	_, err = loadConfig(append(base, "--config", write("auth:\n  client_purposes:\n    payer-app: [HPAYTM]\n")), nil)
	if err == nil || !strings.Contains(err.Error(), `auth.client_purposes.payer-app: "HPAYTM" is not a v3-PurposeOfUse code (did you mean "HPAYMT"?)`) {
		t.Fatalf("a misspelt purpose: %v", err)
	}
}

package main

import (
	"strings"
	"testing"
)

// TestEmptyEnvironmentVariableRefused: a DS4P_ variable set to nothing
// (DS4P_ISSUER=${ISSUER} with ISSUER unset) is refused by name, not taken
// as an empty setting that silently clears the config file's.
func TestEmptyEnvironmentVariableRefused(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://fhir.example/r4\nauth:\n  key_file: /etc/hosts\n  issuer: https://idp.example\n  audience: ds4p\n")
	args := []string{"--config", file}
	if c, err := loadConfig(args, nil); err != nil || c.Auth.Issuer != "https://idp.example" {
		t.Fatalf("the file alone: %v, issuer %q", err, c.Auth.Issuer)
	}
	for _, name := range []string{"DS4P_ISSUER", "DS4P_TLS_CERT_FILE", "DS4P_POLICY_DIR", "DS4P_UPSTREAM"} {
		_, err := loadConfig(args, []string{name + "="})
		if err == nil || !strings.Contains(err.Error(), name+" is set but empty") {
			t.Errorf("%s= was accepted or not named: %v", name, err)
		}
	}
	// DS4P_CONFIG set to nothing would serve without the file.
	_, err := loadConfig([]string{"--upstream", "http://fhir.example/r4", "--dev-auth"}, []string{"DS4P_CONFIG="})
	if err == nil || !strings.Contains(err.Error(), "DS4P_CONFIG is set but empty") {
		t.Errorf("DS4P_CONFIG= was accepted: %v", err)
	}
	// DS4P_CONFIG names the file loadConfig reads.
	if c, err := loadConfig(nil, []string{"DS4P_CONFIG=" + file}); err != nil || c.Auth.Issuer != "https://idp.example" {
		t.Errorf("DS4P_CONFIG=%s: %v, issuer %q", file, err, c.Auth.Issuer)
	}
}

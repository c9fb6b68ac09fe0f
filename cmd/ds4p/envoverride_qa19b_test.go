package main

import (
	"slices"
	"strings"
	"testing"
)

// TestEnvironmentOverridesNamed: a DS4P_ variable that replaces a setting
// the config file gave is recorded by name (logged at start); one setting
// what the file left out is not.
func TestEnvironmentOverridesNamed(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://fhir.example/r4\nauth:\n  dev: true\n  issuer: https://idp.example\nlabels:\n  known_ttl: 1m\n")
	c, err := loadConfig([]string{"--config", file}, []string{
		"DS4P_UPSTREAM=http://other.example/r4", "DS4P_ISSUER=https://idp2.example", "DS4P_AUDIENCE=ds4p",
		"DS4P_LABELS_KNOWN_TTL=2m",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"upstream (DS4P_UPSTREAM)", "auth.issuer (DS4P_ISSUER)", "labels.known_ttl (DS4P_LABELS_KNOWN_TTL)"}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(c.overrides))
	if !slices.Equal(got, want) {
		t.Errorf("overrides %q; want %q", got, want)
	}
	// Every variable maps to a setting of the file but the storage key,
	// which has none.
	for k := range (&Config{}).envVars() {
		p := envSettingPath(k)
		if (p == "") != (k == "DS4P_STORAGE_KEY") || strings.Contains(p, "..") {
			t.Errorf("%s: setting %q", k, p)
		}
	}
	if p := envSettingPath("DS4P_TLS_CLIENT_CA"); p != "tls.client_ca_file" {
		t.Errorf("DS4P_TLS_CLIENT_CA sets %q", p)
	}
}

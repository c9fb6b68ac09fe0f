package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpstreamTokenFileConfig: upstream_token_file (DS4P_UPSTREAM_TOKEN_FILE,
// --upstream-token-file) names the file ds4p reads its upstream token
// from; a missing or empty file is refused at start, never quoting the
// file; sending it over plain http to another host is warned of.
func TestUpstreamTokenFileConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, empty := filepath.Join(dir, "token"), filepath.Join(dir, "empty")
	if err := os.WriteFile(good, []byte("secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--upstream", "https://ehr.example/fhir", "--dev-auth"}
	c, err := loadConfig(base, []string{"DS4P_UPSTREAM_TOKEN_FILE=" + good})
	if err != nil || c.UpstreamTokenFile != good {
		t.Fatalf("DS4P_UPSTREAM_TOKEN_FILE: %q, %v", c.UpstreamTokenFile, err)
	}
	if c, err = loadConfig(append(base, "--upstream-token-file", good), nil); err != nil || c.UpstreamTokenFile != good {
		t.Fatalf("--upstream-token-file: %q, %v", c.UpstreamTokenFile, err)
	}
	for _, bad := range []string{empty, filepath.Join(dir, "missing"), dir} {
		_, err := loadConfig(base, []string{"DS4P_UPSTREAM_TOKEN_FILE=" + bad})
		if err == nil || !strings.Contains(err.Error(), "upstream_token_file") {
			t.Errorf("%s was accepted: %v", bad, err)
		}
	}
	c.Upstream = "http://ehr.example/fhir"
	if w := strings.Join(plainHTTPWarnings(c), "\n"); !strings.Contains(w, "upstream_token_file") || strings.Contains(w, "secret") {
		t.Errorf("plain http with a token: warnings %q", w)
	}
	c.Upstream = "http://127.0.0.1:8080/fhir"
	if w := plainHTTPWarnings(c); len(w) != 0 {
		t.Errorf("a loopback upstream: warnings %q", w)
	}
}

package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnreadableFilesCreateNothing: a TLS certificate, client CA, upstream
// CA or token key file that cannot be read stops serve before the data
// directory gets a database and keys.
func TestUnreadableFilesCreateNothing(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no-such.pem")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = missing, missing }, "tls: loading cert_file/key_file"},
		{func(c *Config) { c.UpstreamCAFile = notPEM }, "upstream_ca_file"},
		{func(c *Config) { c.Auth.KeyFile = missing }, "auth.key_file"},
	} {
		cfg := defaultConfig()
		cfg.Upstream, cfg.Auth.Dev = "https://ehr.example/fhir", true
		cfg.DataDir = filepath.Join(t.TempDir(), "data")
		c.set(&cfg)
		st, err := openStack(t.Context(), cfg, slog.New(slog.DiscardHandler))
		if err == nil {
			_ = st.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("openStack: %v; want an error naming %s", err, c.want)
		}
		if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was made: %v", c.want, err)
		}
	}
}

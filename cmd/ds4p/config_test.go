package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ds4p.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://file:1/fhir\nlisten: 127.0.0.1:1111\nlog_level: warn\nauth:\n  dev: true\nlimits:\n  upstream_timeout: 5s\n")
	env := []string{"DS4P_LISTEN=127.0.0.1:2222", "DS4P_UPSTREAM_TIMEOUT=7s", "PATH=/bin"}
	c, err := loadConfig([]string{"--config", file, "--listen", "127.0.0.1:3333"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Upstream != "http://file:1/fhir" || c.LogLevel != "warn" || !c.Auth.Dev {
		t.Errorf("file values lost: %+v", c)
	}
	if c.Limits.UpstreamTimeout != 7*time.Second {
		t.Errorf("env did not override the file: %v", c.Limits.UpstreamTimeout)
	}
	if c.Listen != "127.0.0.1:3333" {
		t.Errorf("flag did not override env and file: %s", c.Listen)
	}
	if c.Limits.MaxBodyBytes == 0 || c.DataDir != DefaultDataDir {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestConfigRejectsUnknownKeys(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://x/fhir\nauth:\n  dev: true\n  jwks: http://typo\n")
	_, err := loadConfig([]string{"--config", file}, nil)
	if err == nil || !strings.Contains(err.Error(), "jwks") {
		t.Fatalf("unknown key accepted: %v", err)
	}
	_, err = loadConfig([]string{"--upstream", "http://x/fhir", "--dev-auth"}, []string{"DS4P_UPSTREM=http://typo"})
	if err == nil || !strings.Contains(err.Error(), "DS4P_UPSTREM") {
		t.Fatalf("unknown DS4P_ variable accepted: %v", err)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := loadConfig([]string{"--listen", "nope", "--log-level", "loud"}, []string{"DS4P_UPSTREAM_TIMEOUT=-1s"})
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"listen", "upstream", "auth", "log_level", "limits"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problem with %s not reported in:\n%v", want, err)
		}
	}
}

func TestHelpNamesEveryCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out.String(), c.name) {
			t.Errorf("help does not name %s:\n%s", c.name, out.String())
		}
	}
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
	out.Reset()
	if code := run(context.Background(), []string{"help", "serve"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "-upstream") {
		t.Errorf("help serve: exit %d\n%s", code, out.String())
	}
}

func TestTokenRequiresSubject(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"token", "--data", t.TempDir()}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--sub") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"token", "--data", t.TempDir(), "--sub", "s", "--purpose", "TREAT"}, &out, &errOut); code != 0 || strings.Count(out.String(), ".") != 2 {
		t.Fatalf("exit %d: %q", code, out.String())
	}
}

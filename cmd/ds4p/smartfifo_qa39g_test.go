package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeReportsNonFileSMARTConfigurationQA39G: 350ad49 reports a
// start-up file naming a directory or a FIFO as such, but not
// auth.smart_configuration, read with the settings by os.ReadFile: a FIFO
// there (no writer) held serve in its open for good with no output
// (without the fix this test never returns: run it with -timeout), and a
// directory was "cannot be read: is a directory" at best.
func TestServeReportsNonFileSMARTConfigurationQA39G(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := filepath.Join(dir, "conf")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	for _, c := range []struct{ name, path, want string }{
		{"directory", d, "is a directory"},
		{"fifo", fifo, "is not a regular file"},
	} {
		cfg := filepath.Join(dir, c.name+".yaml")
		body := fmt.Sprintf("upstream: https://ehr.example/fhir\nlisten: 127.0.0.1:0\ndata_dir: %s\nauth:\n  dev: true\n  smart_configuration: %s\n",
			filepath.Join(dir, "data-"+c.name), c.path)
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1", c.name, code)
		}
		if want := "auth.smart_configuration: " + c.path + " " + c.want; !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: stderr does not say %q:\n%s", c.name, want, stderr.String())
		}
	}
}

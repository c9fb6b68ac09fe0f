package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeStartLogNamesDataDir: the start line names the data directory
// as an absolute path, whatever relative path was configured, and the
// start-up warnings reach the log (a plain http upstream on another host).
func TestServeStartLogNamesDataDir(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp) // not parallel: the working directory is the process's
	rel := "data"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done, stderr, started := serveUntilListening(ctx, []string{"--listen", "127.0.0.1:18461", "--dev-auth", "--data", rel, "--upstream", "http://10.255.255.1/fhir"})
	cancel()
	if err := <-done; err != nil || !started {
		t.Fatalf("serve: %v (started %v); stderr %s", err, started, stderr.String())
	}
	var sawStart, sawPlain bool
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		msg, _ := rec["msg"].(string)
		switch {
		case msg == "ds4p serving":
			sawStart = true
			if rec["data_dir"] != filepath.Join(tmp, "data") {
				t.Errorf("data_dir %v; want %s", rec["data_dir"], filepath.Join(tmp, "data"))
			}
		case strings.HasPrefix(msg, `upstream "http://10.255.255.1/fhir" is plain http`):
			sawPlain = true
		}
	}
	if !sawStart || !sawPlain {
		t.Errorf("start line %v, plain http warning %v in %s", sawStart, sawPlain, stderr.String())
	}
}

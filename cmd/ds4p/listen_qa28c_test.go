package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestListenInUseNamesTheSettingQA28C: a listen address another process
// holds is reported naming the setting and what to do, not as net's
// "listen tcp ...: bind: address already in use" alone.
func TestListenInUseNamesTheSettingQA28C(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// A context already ended: were the address free, serve would stop at
	// once instead of serving.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--upstream", "http://127.0.0.1:1/fhir", "--dev-auth", "--listen", held.Addr().String(), "--data", filepath.Join(t.TempDir(), "data")}, &stdout, &stderr)
	got := stderr.String()
	if code != 1 || !strings.Contains(got, "ds4p serve: listen: "+held.Addr().String()+" is in use") || !strings.Contains(got, "--listen, DS4P_LISTEN") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming listen, the address in use and where it is set", code, got)
	}
}

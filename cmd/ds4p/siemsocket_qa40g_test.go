package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeReportsUnopenableSIEMFileQA40G (QA round 40, helper G, on
// 3ff1058): the start-up check passed two siem.file paths the sink cannot
// open, so serve still made the data directory, database and keys and
// then stopped on them, one problem per start: a unix socket (the
// README's DS4P_SIEM_FILE=/dev/stdout under systemd, whose stdout is the
// journal's socket: open fails with ENXIO), left to the sink as if it were
// a FIFO, and a symlink to a file in a directory that does not exist (an
// unmounted volume), passed because the link's own directory is writable.
func TestServeReportsUnopenableSIEMFileQA40G(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer ln.Close()
	link := filepath.Join(dir, "siem-link.ndjson")
	if err := os.Symlink(filepath.Join(dir, "unmounted", "siem.ndjson"), link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, file, want string }{
		{"socket", sock, "is a socket"},
		{"dangling symlink", link, "cannot create " + filepath.Join(dir, "unmounted", "siem.ndjson")},
	} {
		data := filepath.Join(dir, "data-"+strings.ReplaceAll(c.name, " ", "-"))
		cfg := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
		body := "upstream: https://ehr.example/fhir\nlisten: 127.0.0.1:0\nauth:\n  dev: true\nstorage:\n  encryption: off\ndata_dir: " + data +
			"\nsiem:\n  file: " + c.file + "\n"
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1", c.name, code)
		}
		if !strings.Contains(stderr.String(), "siem.file: ") || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%s: stderr does not say siem.file: ... %q:\n%s", c.name, c.want, stderr.String())
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the data directory was made before siem.file was reported: %v", c.name, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "unmounted")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the check made the link's target directory: %v", err)
	}
}

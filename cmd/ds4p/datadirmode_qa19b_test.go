package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorldWritableDataDirWarns: a data directory any user may write is
// warned of at start; a group-writable one (a Kubernetes fsGroup volume)
// and the 0700 one ds4p makes are not.
func TestWorldWritableDataDirWarns(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mode os.FileMode
		warn bool
	}{{0o1777, true}, {0o777, true}, {0o2770, false}, {0o700, false}} {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, c.mode); err != nil {
			t.Fatal(err)
		}
		cfg := defaultConfig()
		cfg.Upstream, cfg.Auth.Dev, cfg.DataDir = "http://127.0.0.1:18464/fhir", true, dir
		var log lockedBuffer
		st, err := openStack(t.Context(), cfg, slog.New(slog.NewTextHandler(&log, nil)))
		if err != nil {
			t.Fatalf("%#o: %v", c.mode, err)
		}
		_ = st.Close()
		if got := strings.Contains(log.String(), "data_dir is writable by any user"); got != c.warn {
			t.Errorf("%#o: warned %v; want %v", c.mode, got, c.warn)
		}
	}
}

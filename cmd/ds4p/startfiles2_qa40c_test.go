package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSIEMFileInNewDataDirQA40C (QA round 40, area C, on 3ff1058): the
// start-up check of siem.file asked that its directory exist, but a first
// start makes the data directory before the sink opens, so `data_dir:
// data` with `siem.file: data/siem.ndjson` (the place the deploy kit's
// unit may write) started before 3ff1058 and was refused by it ("siem.file:
// cannot create data/siem.ndjson: no such file or directory"). A siem.file
// directly in the data directory is taken as serve will make it; one in a
// missing directory elsewhere is still reported.
func TestSIEMFileInNewDataDirQA40C(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for _, c := range []struct {
		name, dataDir, file string
		refused             bool
	}{
		{"in the data directory", data, filepath.Join(data, "siem.ndjson"), false},
		{"spelled otherwise", data + "/", dir + "/./data/siem.ndjson", false},
		{"in a missing directory elsewhere", data, filepath.Join(dir, "nodir", "siem.ndjson"), true},
		{"in a subdirectory of the data directory", data, filepath.Join(data, "siem", "siem.ndjson"), true},
	} {
		file := c.file
		cfg := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
		// log_level: loud stops the start after the checks, with nothing made.
		body := "upstream: https://ehr.example/fhir\nlisten: 127.0.0.1:0\nauth:\n  dev: true\nlog_level: loud\ndata_dir: " + c.dataDir +
			"\nsiem:\n  file: " + file + "\n"
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		if code := run(ctx, []string{"serve", "--config", cfg}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "log_level") {
			t.Fatalf("%s: exit %d, stderr:\n%s", c.name, code, stderr.String())
		}
		if got := strings.Contains(stderr.String(), "siem.file"); got != c.refused {
			t.Errorf("%s: siem.file reported %v, want %v:\n%s", c.name, got, c.refused, stderr.String())
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("%s: the data directory was made", c.name)
		}
	}
}

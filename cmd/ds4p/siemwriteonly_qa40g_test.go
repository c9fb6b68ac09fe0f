package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSIEMFileWriteOnlyReportedQA40G (QA round 40, helper G, on 3ff1058):
// the start-up check opened an existing siem.file write-only, where the
// sink opens it read-write (it reads the last byte to end a torn line): a
// file the service user may append to but not read (mode 0200, or a
// collector's group-writable 0620) passed the check, and serve stopped on
// "siem: opening ...: permission denied" after it had made the data
// directory. Root reads anything, so the check runs in a child process as
// nobody.
func TestSIEMFileWriteOnlyReportedQA40G(t *testing.T) {
	if os.Getenv("DS4P_QA40G_CHILD") == "1" {
		err := appendable(os.Getenv("DS4P_QA40G_FILE"), os.Getenv("DS4P_QA40G_DATA"))
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("appendable passed a file the sink cannot open: %v", err)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the check as another user")
	}
	dir, err := os.MkdirTemp("", "ds4p-qa40g-") // t.TempDir's parent is root's alone
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "siem.ndjson")
	if err := os.WriteFile(path, nil, 0o200); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	// The test binary's directory is root's alone: a copy nobody may run.
	bin := filepath.Join(dir, "ds4p.test")
	raw, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestSIEMFileWriteOnlyReportedQA40G$", "-test.v")
	cmd.Env = append(os.Environ(), "DS4P_QA40G_CHILD=1", "DS4P_QA40G_FILE="+path, "DS4P_QA40G_DATA="+filepath.Join(dir, "data"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("as nobody: %v\n%s", err, out)
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// ds4p runs the command line in-process and returns exit code and output.
func ds4p(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

const cliConsent = `{"resourceType":"Consent","id":"ID","status":"active","patient":{"reference":"Patient/p1"},
"provision":{"type":"deny","provision":[{"type":"permit","actor":[{"role":{"coding":[{"code":"IRCP"}]},"reference":{"reference":"Organization/x"}}]}]}}`

// TestConsentCommands imports the HL7 R4 examples and hand-written files,
// then lists, shows and revokes through the command line.
func TestConsentCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	src := t.TempDir()
	one := func(id string) string { return strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", id), "\n", "") }
	files := map[string]string{
		"batch.ndjson": one("n1") + "\n\n" + one("n2") + "\n" + strings.Replace(one("n3"), `"deny"`, `"refuse"`, 1) + "\n",
		"bundle.json": `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + one("b1") +
			`},{"resource":{"resourceType":"Patient","id":"p1"}}]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		args     []string
		wantCode int
		want     []string // substrings of stdout (or stderr when the command fails)
	}{
		{[]string{"consent", "list", "--data", data}, 1, []string{"no database"}},
		{[]string{"consent", "import", "--data", data, "../../consent/testdata/hl7-r4"}, 0, []string{"accepted 12, rejected 0"}},
		{[]string{"consent", "import", "--data", data, src}, 1, []string{
			"accepted 3, rejected 1, skipped 1 Bundle entries",
			"batch.ndjson:4: Consent.provision.type:",
			"1 of 4 consents rejected",
		}},
		{[]string{"consent", "list", "--data", data, "--patient", "Patient/f001"}, 0, []string{"consent-example-Out", "consent-example-notTime"}},
		{[]string{"consent", "list", "--data", data, "--actor", "Organization/x", "--ndjson"}, 0, []string{`"id":"b1"`, `"id":"n2"`}},
		{[]string{"consent", "list", "--data", data, "--statuss", "x"}, 1, []string{"flag provided but not defined"}},
		{[]string{"consent", "list", "--data", data, "--status", "activ"}, 1, []string{"status"}},
		{[]string{"consent", "show", "--data", data, "consent-example-basic"}, 0, []string{`"id": "consent-example-basic"`, `"versionId": "1"`}},
		{[]string{"consent", "revoke", "--data", data, "n1"}, 0, []string{"n1 revoked: version 2, status inactive"}},
		{[]string{"consent", "revoke", "--data", data, "n1"}, 0, []string{"already inactive (version 2); nothing changed"}},
		{[]string{"consent", "revoke", "--data", data, "--status", "draft", "n1"}, 1, []string{"draft"}},
		{[]string{"consent", "revoke", "--data", data, "nope"}, 1, []string{`no consent "nope"`}},
		{[]string{"consent", "show", "--data", data, "--history", "n1"}, 0, []string{"n1  2        inactive", "n1  1        active"}},
		{[]string{"consent", "show", "--data", data, "--version", "1", "n1"}, 0, []string{`"status": "active"`}},
		{[]string{"consent", "list", "--data", data, "--status", "inactive"}, 0, []string{"n1"}},
		{[]string{"consent", "frobnicate"}, 1, []string{"unknown subcommand"}},
		{[]string{"consent", "--help"}, 0, []string{"ds4p consent import"}},
	}
	for _, st := range steps {
		code, stdout, stderr := ds4p(t, st.args...)
		if code != st.wantCode {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", st.args, code, st.wantCode, stdout, stderr)
		}
		for _, want := range st.want {
			if !strings.Contains(stdout+stderr, want) {
				t.Errorf("%v: output lacks %q\nstdout: %s\nstderr: %s", st.args, want, stdout, stderr)
			}
		}
	}
}

// TestConsentCommandLocked checks the message when a server holds the lock.
func TestConsentCommandLocked(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	db, err := bbolt.Open(filepath.Join(data, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, stderr := ds4p(t, "consent", "list", "--data", data)
	if code != 1 || !strings.Contains(stderr, "is `ds4p serve` running") {
		t.Errorf("exit %d, stderr %q; want the lock explained", code, stderr)
	}
}

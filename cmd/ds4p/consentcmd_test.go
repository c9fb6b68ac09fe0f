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
			"accepted 3, rejected 1, skipped 1 Bundle entry that is not a Consent",
			"batch.ndjson:4: Consent.provision.type:",
			"1 of 4 consents rejected",
		}},
		{[]string{"consent", "list", "--data", data, "--patient", "Patient/f001"}, 0, []string{"consent-example-Out", "consent-example-notTime"}},
		{[]string{"consent", "list", "--data", data, "--actor", "Organization/x", "--ndjson"}, 0, []string{`"id":"b1"`, `"id":"n2"`}},
		{[]string{"consent", "list", "--data", data, "--statuss", "x"}, 2, []string{"flag provided but not defined"}},
		{[]string{"consent", "list", "--data", data, "--status", "activ"}, 2, []string{"status"}},
		{[]string{"consent", "list", "--data", data, "--period", "xyz"}, 2, []string{"period"}},
		{[]string{"consent", "revoke", "--data", data, "--status", "active", "n1"}, 2, []string{"inactive, entered-in-error or rejected"}},
		{[]string{"consent", "show", "--data", data, "consent-example-basic"}, 0, []string{`"id": "consent-example-basic"`, `"versionId": "1"`}},
		{[]string{"consent", "revoke", "--data", data, "n1"}, 0, []string{"n1 revoked: version 2, status inactive"}},
		{[]string{"consent", "revoke", "--data", data, "n1"}, 0, []string{"already inactive (version 2); nothing changed"}},
		{[]string{"consent", "revoke", "--data", data, "--status", "draft", "n1"}, 2, []string{"draft"}},
		{[]string{"consent", "revoke", "--data", data, "nope"}, 1, []string{`no consent "nope"`}},
		{[]string{"consent", "show", "--data", data, "--history", "n1"}, 0, []string{"n1  2        inactive", "n1  1        active"}},
		{[]string{"consent", "show", "--data", data, "--version", "1", "n1"}, 0, []string{`"status": "active"`}},
		{[]string{"consent", "list", "--data", data, "--status", "inactive"}, 0, []string{"n1"}},
		{[]string{"consent", "frobnicate"}, 2, []string{"unknown subcommand"}},
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

// TestConsentImportR5 imports the hand-written R5 consents: they are stored
// as sent and read like R4 ones.
func TestConsentImportR5(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	code, stdout, stderr := ds4p(t, "consent", "import", "--data", data, "../../consent/testdata/r5")
	if code != 0 || !strings.Contains(stdout+stderr, "accepted 3, rejected 0") {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	// The store import made is encrypted, as serve makes it.
	if db, err := os.ReadFile(filepath.Join(data, DBFile)); err != nil || bytes.Contains(db, []byte("Organization/x")) {
		t.Errorf("the database import made holds consents in plaintext (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(data, "storage.key")); err != nil {
		t.Errorf("import made no storage key: %v", err)
	}
	// An existing plaintext store (serve with encryption off) stays as it
	// is: the command line does not read serve's config.
	plain := t.TempDir()
	db, err := bbolt.Open(filepath.Join(plain, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if code, stdout, stderr := ds4p(t, "consent", "import", "--data", plain, "../../consent/testdata/r5"); code != 0 {
		t.Fatalf("import into a plaintext store: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(plain, "storage.key")); err == nil {
		t.Error("import encrypted an existing plaintext store")
	}
	code, stdout, _ = ds4p(t, "consent", "list", "--data", data, "--actor", "Organization/x")
	if code != 0 || !strings.Contains(stdout, "r5-tpo") || !strings.Contains(stdout, "r5-nested") || strings.Contains(stdout, "r5-optout") {
		t.Errorf("list by actor: %s", stdout)
	}
	code, stdout, _ = ds4p(t, "consent", "show", "--data", data, "r5-tpo")
	if code != 0 || !strings.Contains(stdout, `"decision": "deny"`) {
		t.Errorf("show: %s", stdout)
	}
}

// TestConsentsConfig checks the consents: section: file, environment,
// and the checks of mode and directory.
func TestConsentsConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "directory.yaml")
	if err := os.WriteFile(good, []byte("entries: [{reference: Organization/x, identifiers: [\"urn:oid:1.2|3\"]}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("entries: [{reference: x}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := ConsentsConf{Upstream: "on_demand", UpstreamTTL: time.Minute, Directory: good, ResolveActors: true, PatientIDSystem: "urn:mrn"}
	if errs := c.validate(); len(errs) != 0 {
		t.Errorf("good section: %v", errs)
	}
	src, err := c.sources()
	if err != nil || src.Directory.Len() != 2 || src.Upstream != "on_demand" || src.TTL != time.Minute || !src.ResolveActors ||
		src.PatientIdentifierSystem != "urn:mrn" {
		t.Errorf("sources: %+v %v", src, err)
	}
	for name, c := range map[string]ConsentsConf{
		"mode":      {Upstream: "always"},
		"directory": {Directory: bad},
		"missing":   {Directory: filepath.Join(dir, "none.yaml")},
		"negative":  {UpstreamTTL: -time.Second},
	} {
		if errs := c.validate(); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
	var cfg Config
	if err := cfg.applyEnv([]string{"DS4P_CONSENTS_UPSTREAM=sync", "DS4P_CONSENTS_SYNC_INTERVAL=2m", "DS4P_CONSENTS_RESOLVE_ACTORS=true"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Consents.Upstream != "sync" || cfg.Consents.SyncInterval != 2*time.Minute || !cfg.Consents.ResolveActors {
		t.Errorf("environment: %+v", cfg.Consents)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// ledgerDir makes a data directory whose ledger holds n entries: entry i
// is for Patient/p1 when odd, Patient/p2 when even; the first old entries
// are eight years old, the rest recent.
func ledgerDir(t *testing.T, n, old int) string {
	t.Helper()
	return ledgerDirWith(t, n, old, "req")
}

// ledgerDirWith is ledgerDir with request ids prefix-01, prefix-02, ...
func ledgerDirWith(t *testing.T, n, old int, prefix string) string {
	t.Helper()
	dir := t.TempDir()
	withLedger(t, dir, func(l *audit.Ledger) {
		now := time.Now().UTC().Truncate(time.Second)
		for i := 1; i <= n; i++ {
			e := audit.Entry{
				Time: now.Add(time.Duration(i-n) * time.Minute), RequestID: fmt.Sprintf("%s-%02d", prefix, i),
				Caller:   audit.Party{Subject: "Practitioner/dr", Org: "Organization/o", Client: "app"},
				Purposes: []string{"TREAT"}, Patient: []string{"Patient/p2", "Patient/p1"}[i%2], Interaction: "read",
				Disclosed: []audit.Item{{Type: "Observation", ID: fmt.Sprintf("o%d", i), Version: "1"}},
			}
			if i <= old {
				e.Time = now.Add(-8 * audit.Year).Add(time.Duration(i) * time.Minute)
			}
			if err := l.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	})
	return dir
}

// withLedger opens the ledger of the data directory dir (creating it),
// calls fn with it, and closes it and then the database (closing the
// ledger first stores what its journal holds).
func withLedger(t *testing.T, dir string, fn func(*audit.Ledger)) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fn(l)
}

// runCLI runs ds4p with args and returns the exit code and outputs.
func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// entriesOf runs fn on the ledger's entries bucket of dir's database.
func entriesOf(t *testing.T, dir string, fn func(b *bbolt.Bucket)) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		fn(tx.Bucket([]byte("audit")).Bucket([]byte("v1")).Bucket([]byte("entries")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// key is a big-endian seq.
func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// TestAuditVerifyTampering tampers with a real ledger file each way and
// checks that `ds4p audit verify` exits 1 naming the seq, and exits 0 on
// an intact file.
func TestAuditVerifyTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(b *bbolt.Bucket)
		want   string
	}{
		{"alter a field", func(b *bbolt.Bucket) {
			_ = b.Put(key(5), bytes.Replace(b.Get(key(5)), []byte("req-05"), []byte("req-55"), 1))
		}, "seq 5: hash does not match"},
		{"delete an entry", func(b *bbolt.Bucket) { _ = b.Delete(key(5)) }, "seq 5: entry missing"},
		{"delete the newest entry", func(b *bbolt.Bucket) { _ = b.Delete(key(10)) }, "seq 10: entry missing"},
		{"insert an entry at the end", func(b *bbolt.Bucket) {
			_ = b.Put(key(11), bytes.Replace(b.Get(key(10)), []byte(`"seq":10`), []byte(`"seq":11`), 1))
		}, "seq 11:"},
		{"insert an entry in the middle", func(b *bbolt.Bucket) {
			// shift 6..10 up by one and put a copy of 5 at 6
			for s := uint64(10); s >= 6; s-- {
				_ = b.Put(key(s+1), bytes.Clone(b.Get(key(s))))
			}
			_ = b.Put(key(6), bytes.Clone(b.Get(key(5))))
		}, "seq 6: entry claims seq 5"},
		{"swap two entries", func(b *bbolt.Bucket) {
			v3, v4 := bytes.Clone(b.Get(key(3))), bytes.Clone(b.Get(key(4)))
			_ = b.Put(key(3), v4)
			_ = b.Put(key(4), v3)
		}, "seq 3: entry claims seq 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := ledgerDir(t, 10, 0)
			if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 10 entries verified") {
				t.Fatalf("verify before tampering = %d %s %s", code, out, errOut)
			}
			entriesOf(t, dir, tt.tamper)
			code, out, errOut := runCLI("audit", "verify", "--data", dir)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Errorf("verify = %d, %q %q; want 1 and %q", code, out, errOut, tt.want)
			}
		})
	}
}

// TestAuditQueryReportExport checks the read commands on a real file.
func TestAuditQueryReportExport(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 6, 0)
	code, out, errOut := runCLI("audit", "query", "--data", dir, "--patient", "Patient/p1")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("query = %d %q %q", code, out, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Patient != "Patient/p1" {
			t.Errorf("query line %s: %v", line, err)
		}
	}
	if code, out, _ := runCLI("audit", "query", "--data", dir, "--limit", "2"); code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("query --limit 2 = %d %q", code, out)
	}
	code, out, errOut = runCLI("audit", "report", "--data", dir, "--patient", "Patient/p2", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 4 || rows[0][0] != "date" {
		t.Errorf("report csv = %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI("audit", "report", "--data", dir, "--patient", "Patient/p2", "--format", "fhir")
	var bundle audit.Bundle
	if code != 0 || json.Unmarshal([]byte(out), &bundle) != nil || len(bundle.Entry) != 3 || bundle.Entry[0].Resource.ResourceType != "AuditEvent" {
		t.Errorf("report fhir = %d %s", code, out)
	}
	file := filepath.Join(t.TempDir(), "all.ndjson")
	if code, _, errOut := runCLI("audit", "export", "--data", dir, "--out", file); code != 0 || !strings.Contains(errOut, "exported 6") {
		t.Errorf("export = %d %s", code, errOut)
	}
	b, _ := os.ReadFile(file)
	if _, n, err := audit.VerifyNDJSON(bytes.NewReader(b), audit.Checkpoint{Hash: audit.GenesisHash}); err != nil || n != 6 {
		t.Errorf("the export does not verify: %d, %v", n, err)
	}
	if code, _, errOut := runCLI("audit", "report", "--data", dir); code != 2 || !strings.Contains(errOut, "--patient is required") {
		t.Errorf("report without --patient = %d %s", code, errOut)
	}
	if code, _, errOut := runCLI("audit", "query", "--data", dir, "--from", "last week"); code != 2 || !strings.Contains(errOut, "--from") {
		t.Errorf("query --from garbage = %d %s", code, errOut)
	}
}

// TestAuditLockedByServe checks the clear error while another process
// holds the database (as serve does).
func TestAuditLockedByServe(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 2, 0)
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if code, _, errOut := runCLI("audit", "verify", "--data", dir); code != 1 || !strings.Contains(errOut, "is `ds4p serve` running") {
		t.Errorf("verify on a locked file = %d %s", code, errOut)
	}
}

// TestAuditPrune prunes entries beyond the retention and checks that the
// ledger and the exports verify together.
func TestAuditPrune(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 10, 4)
	exports := filepath.Join(t.TempDir(), "exports")
	code, out, errOut := runCLI("audit", "prune", "--data", dir, "--retention", "6y", "--export-dir", exports)
	if code != 0 || !strings.Contains(out, "pruned 4 entries into 1 export file; checkpoint seq 4") {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	code, out, errOut = runCLI("audit", "verify", "--data", dir, "--exports", exports)
	if code != 0 || !strings.Contains(out, "ok: 4 exported entries") || !strings.Contains(out, "ok: 6 entries verified (seq 5 to 10)") {
		t.Errorf("verify --exports = %d %q %q", code, out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(exports, "*.ndjson"))
	if len(files) != 1 {
		t.Fatalf("export files %v", files)
	}
	// An export a prune wrote before its delete failed or ds4p stopped:
	// its entries (5 to 10) are still in the ledger. verify notes it and
	// passes (it failed: the exports no longer ended at the checkpoint).
	unfinished := filepath.Join(exports, audit.ExportName(5, 10))
	if code, _, errOut := runCLI("audit", "export", "--data", dir, "--out", unfinished); code != 0 {
		t.Fatalf("export = %d %s", code, errOut)
	}
	code, out, errOut = runCLI("audit", "verify", "--data", dir, "--exports", exports)
	if code != 0 || !strings.Contains(out, "ok: 4 exported entries in 1 file chain") || !strings.Contains(out, "a prune that did not finish wrote it") {
		t.Errorf("verify --exports beside an unfinished export = %d %q %q", code, out, errOut)
	}
	_ = os.Remove(unfinished)
	_ = os.WriteFile(files[0], bytes.Replace(mustRead(t, files[0]), []byte("req-02"), []byte("req-22"), 1), 0o600)
	if code, _, errOut := runCLI("audit", "verify", "--data", dir, "--exports", exports); code != 1 || !strings.Contains(errOut, "seq 2") {
		t.Errorf("verify of an altered export = %d %s", code, errOut)
	}
	if code, _, errOut := runCLI("audit", "prune", "--data", dir, "--retention", "6 years"); code != 2 || !strings.Contains(errOut, "retention") {
		t.Errorf("prune with a bad retention = %d %s", code, errOut)
	}
}

// mustRead reads a file.
func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLedgerConfig checks the ledger section's default, environment and
// validation.
func TestLedgerConfig(t *testing.T) {
	t.Parallel()
	base := []string{"--upstream", "http://fhir.example/r4", "--dev-auth"}
	c, err := loadConfig(base, nil)
	if err != nil || c.Ledger.Retention != "6y" || c.Ledger.ExportDir != "" {
		t.Fatalf("default ledger config = %+v, %v", c.Ledger, err)
	}
	c, err = loadConfig(base, []string{"DS4P_LEDGER_RETENTION=90d", "DS4P_LEDGER_EXPORT_DIR=/x"})
	if err != nil || c.Ledger.Retention != "90d" || c.Ledger.ExportDir != "/x" {
		t.Errorf("ledger config from the environment = %+v, %v", c.Ledger, err)
	}
	if _, err := loadConfig(base, []string{"DS4P_LEDGER_RETENTION=six years"}); err == nil || !strings.Contains(err.Error(), "ledger.retention") {
		t.Errorf("a bad retention = %v", err)
	}
}

// TestAuditVerifyNewDatabase checks that a database without a ledger yet
// (e.g. only consents imported) verifies as an empty ledger.
func TestAuditVerifyNewDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 0 entries") {
		t.Errorf("verify of a database without a ledger = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI("audit", "verify", "--data", t.TempDir()); code != 1 || !strings.Contains(errOut, "no database") {
		t.Errorf("verify of an empty directory = %d %q", code, errOut)
	}
}

// TestLedgerPrunerInServe checks that the pruner serve starts prunes at
// once into the configured export directory.
func TestLedgerPrunerInServe(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 6, 2)
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	exports := filepath.Join(t.TempDir(), "exports")
	log := newLogger(io.Discard, "error")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	startLedgerPruner(ctx, Config{DataDir: dir, Ledger: LedgerConfig{Retention: "6y", ExportDir: exports}}, l, log)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cp, err := l.Checkpoint(t.Context()); err == nil && cp.Seq == 2 {
			files, _ := filepath.Glob(filepath.Join(exports, "ledger-*.ndjson"))
			if len(files) != 1 {
				t.Errorf("export files %v", files)
			}
			return
		}
	}
	t.Fatal("the serve pruner did not prune the two old entries")
}

// TestAuditVerifyRecordedHead checks that a head recorded from verify's
// output catches a file rewritten into a new, self-consistent chain, and
// is found in the exports once pruned.
func TestAuditVerifyRecordedHead(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 10, 4)
	code, out, errOut := runCLI("audit", "verify", "--data", dir)
	_, head, found := strings.Cut(out, "head: ")
	head, _, _ = strings.Cut(head, " ")
	if code != 0 || !found || !strings.HasPrefix(head, "10:") {
		t.Fatalf("verify = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--head", head); code != 0 || !strings.Contains(out, "still holds the recorded entry 10") {
		t.Errorf("verify --head on the same file = %d %q %q", code, out, errOut)
	}
	// A rewrite: another ledger, just as well chained, in the file's place.
	other := ledgerDirWith(t, 10, 4, "forged")
	if err := os.WriteFile(filepath.Join(dir, DBFile), mustRead(t, filepath.Join(other, DBFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	// The journal left beside it still holds the original entries.
	if code, _, errOut := runCLI("audit", "verify", "--data", dir); code != 1 || !strings.Contains(errOut, "seq 1: the journal (-ledger-journal) holds another entry at this seq") {
		t.Fatalf("verify of a rewritten file beside its journal = %d %s", code, errOut)
	}
	journal := audit.JournalPath(filepath.Join(dir, DBFile))
	if err := os.WriteFile(journal, mustRead(t, audit.JournalPath(filepath.Join(other, DBFile))), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI("audit", "verify", "--data", dir); code != 0 {
		t.Fatalf("the rewritten chain is consistent, but verify = %d %s", code, errOut)
	}
	if code, _, errOut := runCLI("audit", "verify", "--data", dir, "--head", head); code != 1 || !strings.Contains(errOut, "seq 10: the entry's hash differs") {
		t.Errorf("verify --head on a rewritten file = %d %q", code, errOut)
	}
	// A pruned recorded entry is checked in the exports.
	_, out, _ = runCLI("audit", "query", "--data", dir, "--limit", "3")
	var third audit.Entry
	_ = json.Unmarshal([]byte(strings.Split(strings.TrimSpace(out), "\n")[2]), &third)
	exports := filepath.Join(t.TempDir(), "exports")
	if code, _, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 {
		t.Fatalf("prune = %d %s", code, errOut)
	}
	recorded := fmt.Sprintf("3:%s", third.Hash)
	if code, _, errOut := runCLI("audit", "verify", "--data", dir, "--head", recorded); code != 1 || !strings.Contains(errOut, "give --exports") {
		t.Errorf("verify --head of a pruned entry without exports = %d %q", code, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--exports", exports, "--head", recorded); code != 0 || !strings.Contains(out, "recorded entry 3") {
		t.Errorf("verify --head of a pruned entry with exports = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI("audit", "verify", "--data", dir, "--head", "10-abc"); code != 2 || !strings.Contains(errOut, "SEQ:HASH") {
		t.Errorf("verify --head garbage = %d %q", code, errOut)
	}
}

// TestAuditVerifyDamagedFile: a database file whose pages say they are
// other pages (one flipped byte in a page header does that) makes bbolt
// panic; verify reports the file damaged with exit 1, not a stack trace
// with exit 2, and every other audit command does the same.
func TestAuditVerifyDamagedFile(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 200, 0)
	if n := damagePages(t, filepath.Join(dir, DBFile)); n == 0 {
		t.Fatal("found no branch or leaf page to damage")
	}
	for _, args := range [][]string{{"verify"}, {"query"}, {"report", "--patient", "Patient/p1"}} {
		code, _, errOut := runCLI(append(append([]string{"audit"}, args...), "--data", dir)...)
		if code != 1 || !strings.Contains(errOut, "the database file is damaged") {
			t.Errorf("audit %s on a damaged file = %d %q, want 1 and the file named damaged", args[0], code, errOut)
		}
	}
}

// damagePages rewrites the id in the header of every branch and leaf page
// of the bbolt file at path (so each reads as another page) and returns how
// many it changed.
func damagePages(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := os.Getpagesize()
	n := 0
	for off := 2 * ps; off+16 <= len(b); off += ps {
		if flags := binary.LittleEndian.Uint16(b[off+8:]); flags == 0x01 || flags == 0x02 {
			id := binary.LittleEndian.Uint64(b[off:])
			binary.LittleEndian.PutUint64(b[off:], id+1000)
			n++
		}
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuditPatientAsTyped: a bare id is the patient it names, and a
// reference to anything else is refused, not answered with nothing.
func TestAuditPatientAsTyped(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 10, 0)
	for _, args := range [][]string{{"query", "--patient"}, {"report", "--patient"}} {
		_, want, _ := runCLI("audit", args[0], "--data", dir, args[1], "Patient/p1")
		code, got, errOut := runCLI("audit", args[0], "--data", dir, args[1], "p1")
		if code != 0 || got != want || !strings.Contains(got, "o1") {
			t.Errorf("audit %s --patient p1 = %d %q %q, want the output for Patient/p1, %q", args[0], code, got, errOut, want)
		}
		for _, bad := range []string{"Observation/o1", "Patient/", "Patient/a/b"} {
			if code, _, errOut := runCLI("audit", args[0], "--data", dir, args[1], bad); code != 2 || !strings.Contains(errOut, "not a patient reference") {
				t.Errorf("audit %s --patient %s = %d %q, want 2 (a usage error) and why", args[0], bad, code, errOut)
			}
		}
	}
}

// TestCountsAgreeWithTheirNouns: a count of one says "1 entry", "1 file",
// "1 problem", not "1 entries".
func TestCountsAgreeWithTheirNouns(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 2, 1)
	exports := filepath.Join(t.TempDir(), "exports")
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 || !strings.Contains(out, "pruned 1 entry into 1 export file;") {
		t.Errorf("prune of one entry = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--exports", exports); code != 0 ||
		!strings.Contains(out, "ok: 1 exported entry in 1 file chain") || !strings.Contains(out, "ok: 1 entry verified (seq 2 to 2)") {
		t.Errorf("verify of one entry = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := runCLI("audit", "export", "--data", dir, "--out", filepath.Join(t.TempDir(), "x.ndjson")); code != 0 || !strings.Contains(errOut, "exported 1 entry to ") {
		t.Errorf("export of one entry = %d %q", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(bad, []byte(`{"resourceType":"Consent"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI("consent", "import", "--data", t.TempDir(), bad); code != 1 || !strings.Contains(errOut, "1 of 1 consent rejected\n") {
		t.Errorf("import of one bad consent = %d %q", code, errOut)
	}
	if code, _, errOut := runCLI("policy", "check", "--dir", t.TempDir()); code != 1 || !strings.Contains(errOut, " has 1 problem; ") {
		t.Errorf("check of an empty policy directory = %d %q", code, errOut)
	}
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 entries"}, {1, "1 entry"}, {2, "2 entries"}} {
		if got := plural(c.n, "entry", "entries"); got != c.want {
			t.Errorf("plural(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := allOf(1, "evaluation", "evaluations"); got != "1 evaluation" {
		t.Errorf("allOf(1) = %q", got)
	}
	if got := allOf(3, "evaluation", "evaluations"); got != "all 3 evaluations" {
		t.Errorf("allOf(3) = %q", got)
	}
}

// TestAuditEmptyTimeRange: a --from after (or equal to) --to is an error,
// not an empty result that reads as "no disclosures".
func TestAuditEmptyTimeRange(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 3, 0)
	for _, sub := range [][]string{
		{"query"}, {"report", "--patient", "p1"}, {"export", "--out", "-"},
	} {
		for _, r := range []struct{ from, to, want string }{
			{"2025-02-01", "2025-01-01", "--from is after --to"},
			{"2025-01-01T10:00:00Z", "2025-01-01T09:00:00+00:00", "--from is after --to"},
			{"2025-01-01", "2025-01-01", "--from equals --to"},
		} {
			args := append(append([]string{"audit"}, sub...), "--data", dir, "--from", r.from, "--to", r.to)
			if code, out, errOut := runCLI(args...); code != 2 || out != "" || !strings.Contains(errOut, r.want) {
				t.Errorf("%v = %d %q %q; want 2 (a usage error) and %q", args, code, out, errOut, r.want)
			}
		}
	}
	// A range in order still works, and either end alone too.
	now := time.Now().UTC()
	for _, r := range [][]string{
		{"--from", now.Add(-time.Hour).Format(time.RFC3339), "--to", now.Add(time.Hour).Format(time.RFC3339)},
		{"--from", now.Add(-time.Hour).Format(time.RFC3339)},
		{"--to", now.Add(time.Hour).Format(time.RFC3339)},
	} {
		if code, out, errOut := runCLI(append([]string{"audit", "query", "--data", dir}, r...)...); code != 0 || strings.Count(out, "\n") != 3 {
			t.Errorf("query %v = %d %q %q; want the 3 entries", r, code, out, errOut)
		}
	}
}

// TestAuditVerifyWarnsOnEmptyLedger: a ledger without entries verifies
// (exit 0: a new data directory has none) but warns that nothing was
// verified and that only a head recorded elsewhere shows removed entries;
// a ledger with entries verifies without the warning.
func TestAuditVerifyWarnsOnEmptyLedger(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	code, out, errOut := runCLI("audit", "verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "ok: 0 entries verified\n") || strings.Contains(out, "seq 1 to 0") || !strings.Contains(out, "head: none") {
		t.Errorf("verify of an empty ledger = %d %q %q", code, out, errOut)
	}
	for _, want := range []string{"warning: the ledger holds no entries, so there is nothing to verify", "its entries were removed", "--head"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("verify of an empty ledger: stderr %q lacks %q", errOut, want)
		}
	}
	// Every entry pruned: the warning names the checkpoint.
	old := ledgerDir(t, 2, 2)
	if code, out, errOut := runCLI("audit", "prune", "--data", old, "--export-dir", t.TempDir()); code != 0 {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", old); code != 0 || !strings.Contains(errOut, "no entries after the prune checkpoint (seq 2)") || !strings.Contains(out, "head: 2:") {
		t.Errorf("verify of a ledger pruned empty = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", ledgerDir(t, 2, 0)); code != 0 || errOut != "" || !strings.Contains(out, "ok: 2 entries verified (seq 1 to 2)") {
		t.Errorf("verify of a ledger with entries = %d %q %q; want no warning", code, out, errOut)
	}
}

// TestRetentionIsAtLeastADay: a retention under a day, or with minutes
// in it ("6m" reads as six months to a compliance officer; it is six
// minutes as a Go duration), is refused by prune and by serve's config,
// with the units accepted, and prunes nothing; the documented spellings
// still work.
func TestRetentionIsAtLeastADay(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 3, 0) // every entry minutes old
	for _, r := range []string{"1m", "6m", "12m", "1y6m", "90s", "12h", "23h", "2d1h30m"} {
		code, out, errOut := runCLI("audit", "prune", "--data", dir, "--retention", r)
		if code != 2 || out != "" || !strings.Contains(errOut, "want whole years (y), days (d) or hours (h)") {
			t.Errorf("prune --retention %s = %d %q %q; want 2 (a usage error) and the units", r, code, out, errOut)
		}
		if strings.HasSuffix(r, "m") && !strings.Contains(errOut, "m is minutes, not months") {
			t.Errorf("prune --retention %s: %q does not say m is minutes", r, errOut)
		}
		if _, err := loadConfig([]string{"--upstream", "http://fhir.example/r4", "--dev-auth"}, []string{"DS4P_LEDGER_RETENTION=" + r}); err == nil || !strings.Contains(err.Error(), "ledger.retention") {
			t.Errorf("serve with ledger.retention %s: %v; want a config error", r, err)
		}
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 3 entries verified") {
		t.Fatalf("after the refused prunes: %d %q %q; want the 3 entries kept", code, out, errOut)
	}
	for r, want := range map[string]time.Duration{
		"6y": 6 * audit.Year, "90d": 90 * audit.Day, "1y30d": audit.Year + 30*audit.Day, "52608h": audit.DefaultRetention,
		"1y12h": audit.Year + 12*time.Hour, "24h": audit.Day, "8760h0m0s": 8760 * time.Hour, "0": 0,
	} {
		if got, err := parseRetention(r); err != nil || got != want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v", r, got, err, want)
		}
	}
}

// sealedLedgerDir is ledgerDir for an encrypted ledger, its key made in
// DATA/storage.key as serve makes it.
func sealedLedgerDir(t *testing.T, n, old int) string {
	t.Helper()
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sealer, err := openSealer(db, StorageConf{}, dir, true)
	if err != nil || sealer == nil {
		t.Fatalf("openSealer = %v, %v", sealer, err)
	}
	l, err := audit.Open(db, auditSealing(sealer)...)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	now := time.Now().UTC().Truncate(time.Second)
	for i := 1; i <= n; i++ {
		e := audit.Entry{Time: now.Add(time.Duration(i-n) * time.Minute), RequestID: fmt.Sprintf("req-%02d", i),
			Caller: audit.Party{Subject: "Practitioner/dr"}, Patient: "Patient/p1", Interaction: "read",
			Disclosed: []audit.Item{{Type: "Observation", ID: fmt.Sprint("o", i), Version: "1"}}}
		if i <= old {
			e.Time = now.Add(-8 * audit.Year).Add(time.Duration(i) * time.Minute)
		}
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ledgerMeta runs fn on the ledger's buckets of dir's database, raw (as
// someone without the storage key would).
func ledgerMeta(t *testing.T, dir string, fn func(v1 *bbolt.Bucket)) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, DBFile), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { fn(tx.Bucket([]byte("audit")).Bucket([]byte("v1"))); return nil }); err != nil {
		t.Fatal(err)
	}
}

// forgeCheckpointCLI deletes entries 1..through of dir's ledger with their
// index keys and writes a plaintext checkpoint naming the hash of entry
// through, read from an export (SIEM exports and the console show it).
func forgeCheckpointCLI(t *testing.T, dir string, through int) {
	t.Helper()
	code, out, errOut := runCLI("audit", "export", "--data", dir, "--out", "-")
	if code != 0 {
		t.Fatalf("export = %d %s", code, errOut)
	}
	var e audit.Entry
	if err := json.Unmarshal([]byte(strings.Split(out, "\n")[through-1]), &e); err != nil || e.Seq != uint64(through) {
		t.Fatalf("entry %d: %+v %v", through, e, err)
	}
	ledgerMeta(t, dir, func(v1 *bbolt.Bucket) {
		_ = v1.ForEachBucket(func(name []byte) error {
			b := v1.Bucket(name)
			switch string(name) {
			case "head", "meta":
				return nil
			}
			var doomed [][]byte
			_ = b.ForEach(func(k, _ []byte) error {
				if len(k) >= 8 && binary.BigEndian.Uint64(k[len(k)-8:]) <= uint64(through) {
					doomed = append(doomed, bytes.Clone(k))
				}
				return nil
			})
			for _, k := range doomed {
				_ = b.Delete(k)
			}
			return nil
		})
		cp, _ := json.Marshal(audit.Checkpoint{Seq: e.Seq, Hash: e.Hash, Time: e.Time})
		_ = v1.Bucket([]byte("meta")).Put([]byte("checkpoint"), cp)
	})
}

// TestAuditVerifyForgedCheckpoint: the oldest entries deleted and a
// checkpoint written after them by someone without the storage key.
// Verify of an encrypted ledger fails (the checkpoint carries no MAC under
// its key); of a plaintext one, it cannot tell, and says so: it prints
// where the prune left off and warns that only the exports or an off-host
// head show such a deletion.
func TestAuditVerifyForgedCheckpoint(t *testing.T) {
	t.Parallel()
	sealed := sealedLedgerDir(t, 12, 0)
	forgeCheckpointCLI(t, sealed, 6)
	code, out, errOut := runCLI("audit", "verify", "--data", sealed)
	if code != 1 || !strings.Contains(errOut, "carries no MAC under its storage key") || strings.Contains(out, "ok:") {
		t.Errorf("verify of an encrypted ledger with a forged checkpoint = %d %q %q; want 1", code, out, errOut)
	}
	if code, _, errOut := runCLI("audit", "report", "--data", sealed, "--patient", "Patient/p1"); code != 1 || !strings.Contains(errOut, "carries no MAC") {
		t.Errorf("report from a forged checkpoint = %d %q; want 1", code, errOut)
	}

	plain := ledgerDir(t, 12, 0)
	forgeCheckpointCLI(t, plain, 6)
	code, out, errOut = runCLI("audit", "verify", "--data", plain)
	if code != 0 || !strings.Contains(out, "pruned: seq 1 to 6") || !strings.Contains(out, "plaintext ledger, not authenticated") ||
		!strings.Contains(errOut, "warning: verified from the prune checkpoint (seq 6), which nothing authenticates in a plaintext ledger") {
		t.Errorf("verify of a plaintext ledger with a forged checkpoint = %d %q %q; want 0 with the warning", code, out, errOut)
	}
	if code, _, errOut := runCLI("audit", "verify", "--data", plain, "--exports", t.TempDir()); code != 1 || !strings.Contains(errOut, "the exports end at seq 0 but the checkpoint is seq 6") {
		t.Errorf("verify --exports of the forged checkpoint = %d %q; want 1", code, errOut)
	}
}

// TestAuditLegacyCheckpoint: an encrypted ledger pruned by a ds4p that
// wrote its checkpoint without a MAC. Verify fails, telling how to fix
// it; verify --exports accepts it with a warning; audit checkpoint
// --authenticate records it once the exports chain to it, and verify then
// passes as after any prune now. --retention fails a checkpoint younger
// than it.
func TestAuditLegacyCheckpoint(t *testing.T) {
	t.Parallel()
	dir := sealedLedgerDir(t, 10, 4)
	exports := filepath.Join(t.TempDir(), "exports")
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", exports); code != 0 {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	code, out, errOut := runCLI("audit", "verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "pruned: seq 1 to 4") || !strings.Contains(out, "checkpoint authenticated") || !strings.Contains(out, "ok: 6 entries verified (seq 5 to 10)") {
		t.Fatalf("verify after a prune = %d %q %q", code, out, errOut)
	}
	ledgerMeta(t, dir, func(v1 *bbolt.Bucket) { _ = v1.Bucket([]byte("meta")).Delete([]byte("checkpoint_mac")) })
	code, out, errOut = runCLI("audit", "verify", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "ds4p audit checkpoint --authenticate --exports DIR") {
		t.Errorf("verify of a checkpoint without MAC = %d %q %q; want 1 and how to fix it", code, out, errOut)
	}
	code, out, errOut = runCLI("audit", "verify", "--data", dir, "--exports", exports)
	if code != 0 || !strings.Contains(out, "ok: 6 entries verified") || !strings.Contains(errOut, "accepted because the exports chain from genesis to it") {
		t.Errorf("verify --exports of a checkpoint without MAC = %d %q %q; want 0 with a warning", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "checkpoint", "--data", dir, "--authenticate", "--exports", t.TempDir()); code != 1 || !strings.Contains(errOut, "stays unauthenticated") {
		t.Errorf("checkpoint --authenticate without the exports = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "checkpoint", "--data", dir, "--authenticate", "--exports", exports); code != 0 || !strings.Contains(out, "ok: checkpoint authenticated") {
		t.Errorf("checkpoint --authenticate = %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "checkpoint authenticated") {
		t.Errorf("verify after authenticating = %d %q %q", code, out, errOut)
	}
	// The pruned entries are eight years old.
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--retention", "9y"); code != 1 || !strings.Contains(errOut, "younger than the minimum retention") {
		t.Errorf("verify --retention 9y = %d %q %q; want 1", code, out, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir, "--retention", "6y"); code != 0 || strings.Contains(errOut, "retention was not checked") {
		t.Errorf("verify --retention 6y = %d %q %q; want 0", code, out, errOut)
	}
}

// pendingJournalDir makes a data directory as a crash leaves it: ds4p.db
// holds entries 1..5 and its journal 6..8 (a later session's appends,
// with the file put back as it was before them).
func pendingJournalDir(t *testing.T) string {
	t.Helper()
	dir := ledgerDir(t, 5, 0)
	path := filepath.Join(dir, DBFile)
	before := mustRead(t, path)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 6; i <= 8; i++ {
		if err := l.Append(t.Context(), audit.Entry{RequestID: fmt.Sprint("req-", i), Patient: "Patient/p1", Interaction: "read"}); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Close()
	_ = db.Close()
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAuditVerifyIsReadOnly: verify of a data directory whose journal
// holds entries the file lacks checks them from the journal, says so, and
// leaves ds4p.db and the journal byte for byte as they were (it used to
// store them, changing a forensic copy); another command then stores them.
func TestAuditVerifyIsReadOnly(t *testing.T) {
	t.Parallel()
	dir := pendingJournalDir(t)
	path := filepath.Join(dir, DBFile)
	db, journal := mustRead(t, path), mustRead(t, audit.JournalPath(path))
	code, out, errOut := runCLI("audit", "verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "ok: 8 entries verified (seq 1 to 8)") || !strings.Contains(out, "head: 8:") ||
		!strings.Contains(errOut, "the last 3 entries (seq 6 to 8) are in the journal") || strings.Contains(errOut, "stored") {
		t.Errorf("verify with a pending journal = %d %q %q", code, out, errOut)
	}
	if !bytes.Equal(mustRead(t, path), db) || !bytes.Equal(mustRead(t, audit.JournalPath(path)), journal) {
		t.Fatal("verify changed ds4p.db or its journal")
	}
	if code, _, errOut := runCLI("audit", "query", "--data", dir); code != 0 || !strings.Contains(errOut, "stored 3 ledger entries") {
		t.Errorf("query with a pending journal = %d %q; want the entries stored", code, errOut)
	}
	if code, out, errOut := runCLI("audit", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok: 8 entries verified") || errOut != "" {
		t.Errorf("verify once stored = %d %q %q", code, out, errOut)
	}
}

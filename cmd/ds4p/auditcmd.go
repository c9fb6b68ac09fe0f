package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/proxy/authn"
	"go.etcd.io/bbolt"
)

const auditHelp = `Reads, reports on, exports, verifies and prunes the disclosure ledger in the
data directory's database:

  ds4p audit query  [--data DIR] [--patient P] [--recipient R] [--purpose CODE]
                    [--break-glass] [--from T] [--to T] [--limit N]
                        matching entries as NDJSON, in time order (--limit 0: all)
  ds4p audit report [--data DIR] --patient P [--from T] [--to T]
                    [--format json|csv|fhir] [--out FILE]
                        the accounting of disclosures of one patient
  ds4p audit export [--data DIR] [--from T] [--to T] --out FILE
                        entries as NDJSON in chain (seq) order, the stored bytes
  ds4p audit verify [--data DIR] [--exports DIR] [--head SEQ:HASH]
                        checks the hash chain and indexes (and, with --exports,
                        the pruned exports up to the checkpoint); exit 1 and the
                        seq where it breaks if anything was altered, deleted,
                        inserted or reordered. It prints the head (SEQ:HASH):
                        kept elsewhere and given back with --head, it also
                        catches a file rewritten into a new consistent chain.
                        A ledger with no entries passes with a warning: only
                        --head can show that its entries were removed.
                        It prints where a prune left off ("pruned: ...");
                        --retention (default $DS4P_LEDGER_RETENTION) also
                        fails it if entries younger than that were pruned
  ds4p audit checkpoint [--data DIR] [--exports DIR] [--authenticate]
                        prints the prune checkpoint and what vouches for it;
                        --authenticate records its MAC (an encrypted ledger
                        pruned by an older ds4p) once the exports (default
                        DATA/` + DefaultExportDir + `) chain from genesis to it
  ds4p audit prune  [--data DIR] [--retention 6y] [--export-dir DIR]
                        exports then deletes entries older than the retention
                        (whole years, days or hours, at least a day: 6y, 180d,
                        52608h; "m" would be minutes, not months)

T is an RFC 3339 time or a YYYY-MM-DD date (UTC); from is inclusive, to
exclusive. query, report, export and verify open DIR/ds4p.db read-only (verify
writes nothing, not even the entries a crash left in the journal, which it checks
from there; the others store those first); prune
and checkpoint --authenticate (and a first open of a ledger written before the
indexes existed) need it read-write. While ` + "`ds4p serve`" + ` runs it holds the database's lock, so these
commands wait 2 seconds and then fail: stop serve, or use its admin API
(GET /admin/audit, GET /admin/audit/accounting).`

// DefaultExportDir is where pruned entries go, inside the data directory,
// unless ledger.export_dir says otherwise.
const DefaultExportDir = "ledger-exports"

// runAudit is `ds4p audit query|report|export|verify|prune`.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	// bbolt panics on a damaged page (one it reads while opening the file,
	// say, before the ledger's own reads can turn it into an error): an
	// auditor gets exit 1 and what was found, not a stack trace and exit 2.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", audit.ErrDamaged, r)
		}
	}()
	return runGroup(ctx, args, stdout, stderr, auditHelp, []subcommand{
		{"query", runAuditQuery}, {"report", runAuditReport}, {"export", runAuditExport},
		{"verify", runAuditVerify}, {"prune", runAuditPrune}, {"checkpoint", runAuditCheckpoint},
	})
}

// auditFlags is a subcommand's flag set with --data, --from and --to.
type auditFlags struct {
	fs             *flag.FlagSet
	data, from, to *string
}

func newAuditFlags(name string, args []string, stdout, stderr io.Writer) auditFlags {
	fs := newFlagSet("audit "+name, auditHelp, stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	return auditFlags{
		fs: fs, data: fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)"),
		from: fs.String("from", "", "only entries at or after this time (RFC 3339 or YYYY-MM-DD)"),
		to:   fs.String("to", "", "only entries before this time (RFC 3339 or YYYY-MM-DD)"),
	}
}

// parse parses args and returns the time range.
func (f auditFlags) parse(args []string) (time.Time, time.Time, error) {
	if err := parseFlags(f.fs, args); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if err := noArgs(f.fs); err != nil {
		return time.Time{}, time.Time{}, err
	}
	from, err := parseAuditTime(*f.from)
	if err != nil {
		return from, time.Time{}, usagef("--from: %v", err)
	}
	to, err := parseAuditTime(*f.to)
	if err != nil {
		return from, to, usagef("--to: %v", err)
	}
	// An empty range would match nothing and exit 0, as if there were no
	// disclosures: a swapped --from and --to must not read as that.
	switch {
	case *f.to != "" && to.IsZero():
		// Go's zero time stands for no bound: --to 0001-01-01 matched
		// every entry, not none.
		return from, to, usagef("--to %s is before every entry: nothing could match (leave --to out for no end)", *f.to)
	case from.IsZero() || to.IsZero():
	case from.After(to):
		return from, to, usagef("--from is after --to (%s > %s): nothing could match", *f.from, *f.to)
	case from.Equal(to):
		return from, to, usagef("--from equals --to (%s): nothing could match, as --to is exclusive (for one day, give --to the next day)", *f.to)
	}
	return from, to, nil
}

// shownText is a value the ledger file holds (the prune checkpoint's
// export name, hash and digest) as printed to a terminal: as it is when
// it is printable text, else quoted, its control characters escaped. In a
// plaintext ledger anyone able to write the file writes these, and a
// terminal control among them ("\x1b[8m") hid what verify printed next.
func shownText(s string) string {
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		return q
	}
	return s
}

// parseAuditTime reads an RFC 3339 time or a date; "" is the zero time.
func parseAuditTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
	}
	return t, nil
}

// openLedger opens the ledger of a data directory, read-only unless
// writable; a read-only open of a ledger that needs migrating, or whose
// journal holds entries a crash left unstored, is retried read-write once.
// The returned function closes the ledger and the database.
func openLedger(dir string, writable bool, stderr io.Writer, opts ...audit.Option) (*audit.Ledger, func() error, error) {
	return openLedgerAs(dir, writable, !writable, stderr, opts...)
}

// errNoLedger: a strictly read-only open found a database without a
// ledger (a new data directory, or one with only consents imported).
var errNoLedger = errors.New("the database holds no ledger yet")

// openLedgerAs is openLedger; a read-only open is retried read-write
// only when retry is set. Without it (verify), a database without a
// ledger is errNoLedger, and a ledger that needs migrating an error that
// says so.
func openLedgerAs(dir string, writable, retry bool, stderr io.Writer, opts ...audit.Option) (*audit.Ledger, func() error, error) {
	path := filepath.Join(dir, DBFile)
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("no database at %s (is --data right?)", path)
	}
	db, err := openBolt(path, &bbolt.Options{ReadOnly: !writable, Timeout: 2 * time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, nil, fmt.Errorf("%s is locked: is `ds4p serve` running on this data directory? "+
			"Stop it, or use its admin API (GET /admin/audit) instead", path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	sealer, err := openSealer(db, cliStorage(), dir, false) // keyscmd.go
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	l, err := audit.Open(db, append(auditSealing(sealer), opts...)...)
	if errors.Is(err, audit.ErrNeedsMigration) && !writable {
		// No ledger at all (a new data directory, one with only consents
		// imported, or the wrong --data): a read-only command says so and
		// writes nothing, instead of creating an empty ledger and answering
		// as though nothing was ever disclosed.
		noLedger := false
		_ = db.View(func(tx *bbolt.Tx) error { noLedger = tx.Bucket([]byte("audit")) == nil; return nil })
		if noLedger {
			_ = db.Close()
			if retry {
				return nil, nil, fmt.Errorf("%s: %w: nothing was recorded in this data directory (is --data right?)", path, errNoLedger)
			}
			return nil, nil, errNoLedger
		}
	}
	if (errors.Is(err, audit.ErrNeedsMigration) || errors.Is(err, audit.ErrNeedsRecovery)) && !writable && retry {
		_ = db.Close()
		return openLedger(dir, true, stderr, opts...)
	}
	if errors.Is(err, audit.ErrNeedsMigration) && !writable {
		_ = db.Close()
		return nil, nil, fmt.Errorf("%w; verify opens %s read-only and changes nothing: migrate it first (ds4p serve, or any other ds4p audit command, once), or verify a copy", err, path)
	}
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	if n := l.Recovered(); n > 0 {
		fmt.Fprintf(stderr, "ds4p audit: stored %s that ds4p appended but had not stored when it stopped (durable in %s)\n", plural(n, "ledger entry", "ledger entries"), audit.JournalPath(path))
	}
	return l, func() error { return errors.Join(l.Close(), db.Close()) }, nil
}

// runAuditQuery prints the matching entries as NDJSON.
func runAuditQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAuditFlags("query", args, stdout, stderr)
	q := audit.Query{}
	f.fs.StringVar(&q.Patient, "patient", "", "only this patient's entries (Patient/ID or the id)")
	f.fs.StringVar(&q.Recipient, "recipient", "", "only entries whose caller subject or organisation is this")
	f.fs.StringVar(&q.Purpose, "purpose", "", "only entries stating this purpose of use (e.g. TREAT)")
	f.fs.BoolVar(&q.BreakGlass, "break-glass", false, "only break-the-glass (emergency) disclosures")
	f.fs.BoolVar(&q.AuditReads, "audit-reads", false, "only the auditors' reads of the ledger (left out otherwise)")
	limit := f.fs.Int("limit", 0, "at most this many entries (0: all)")
	var err error
	if q.From, q.To, err = f.parse(args); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("--limit %d: give a number of entries, or 0 for all", *limit)
	}
	var empty error
	f.fs.Visit(func(fl *flag.Flag) { // an empty filter would read as none: every patient's entries
		if (fl.Name == "patient" || fl.Name == "recipient" || fl.Name == "purpose") && fl.Value.String() == "" && empty == nil {
			empty = usagef("--%s is empty: give a value, or leave it out for no filter", fl.Name)
		}
	})
	if empty != nil {
		return empty
	}
	if q.Patient != "" {
		if q.Patient, err = audit.PatientRef(q.Patient); err != nil {
			return &usageError{err.Error()}
		}
	}
	if q.Purpose != "" {
		if q.Purpose, err = auditPurpose(q.Purpose, stderr); err != nil {
			return err
		}
	}
	l, closeDB, err := openLedger(*f.data, false, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	enc := json.NewEncoder(stdout)
	n := 0
	errLimit := errors.New("limit reached")
	err = l.Scan(ctx, q, func(e audit.Entry) error {
		if *limit > 0 && n == *limit {
			return errLimit
		}
		n++
		return enc.Encode(e)
	})
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

// auditPurpose reads --purpose as the proxy reads a token's purpose before
// it records it (authn.NormalizePurpose): a TEFCA code (T-TREAT) or a
// code with its system (...v3-ActReason|TREAT) is searched for as the
// v3-ActReason code the entries hold, where as typed it matched nothing,
// and an empty answer reads as "never disclosed for that purpose". A
// v3-PurposeOfUse code in another case (treat) is searched for as typed,
// as a token stating it is recorded so, with a warning naming the code.
func auditPurpose(asked string, stderr io.Writer) (string, error) {
	p := authn.NormalizePurpose(asked)
	if p == "" {
		return "", usagef("--purpose %q names no purpose of use", asked)
	}
	if p != strings.TrimSpace(asked) {
		fmt.Fprintf(stderr, "ds4p audit: --purpose %s is searched for as %s, the code the proxy records for it\n", asked, p)
	}
	if up := strings.ToUpper(p); !labels.KnownPurpose(p) && labels.KnownPurpose(up) {
		fmt.Fprintf(stderr, "ds4p audit: --purpose %s is no v3-PurposeOfUse code (codes are case-sensitive): only entries whose token stated %s match; for %s give --purpose %s\n", p, p, up, up)
	}
	return p, nil
}

// runAuditReport writes one patient's accounting of disclosures.
func runAuditReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAuditFlags("report", args, stdout, stderr)
	patient := f.fs.String("patient", "", "the patient (Patient/ID or the id), required")
	format := f.fs.String("format", "json", "json, csv or fhir (a Bundle of IHE BALP AuditEvents)")
	out := f.fs.String("out", "-", "output file (- for standard output)")
	from, to, err := f.parse(args)
	if err != nil {
		return err
	}
	if *patient == "" {
		return usagef("--patient is required")
	}
	if *patient, err = audit.PatientRef(*patient); err != nil {
		return &usageError{err.Error()}
	}
	if *format != "json" && *format != "csv" && *format != "fhir" {
		return usagef("--format %q: want json, csv or fhir", *format)
	}
	keep, err := envRetention()
	if err != nil {
		return err
	}
	// With the retention known, an accounting from a checkpoint younger
	// than it fails (audit.ErrCheckpointTooRecent).
	l, closeDB, err := openLedger(*f.data, false, stderr, audit.WithMinRetention(keep))
	if err != nil {
		return err
	}
	defer closeDB()
	ds, entries, err := l.Accounting(ctx, *patient, from, to)
	if err != nil {
		return err
	}
	// Entries pruned into export files are not in the ledger: a report
	// reaching back before the prune checkpoint says so (as the admin API
	// does), rather than reading as "nothing was disclosed then".
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		return err
	}
	var pruned *audit.Checkpoint
	if cp.Seq > 0 && (from.IsZero() || !from.After(cp.Time)) {
		pruned = &cp
		fmt.Fprintf(stderr, "ds4p audit: warning: the ledger's entries up to %s (seq 1 to %d) were pruned into the export files (the last: %s): "+
			"the disclosures before then are in those files, not in this report\n", cp.Time.UTC().Format(time.RFC3339Nano), cp.Seq, shownText(cp.Export))
	}
	return writeOut(*out, *f.data, stdout, func(w io.Writer) error {
		return writeReport(w, *format, *patient, from, to, pruned, ds, entries)
	})
}

// writeReport renders an accounting: json is the admin API's answer
// ({"patient", "from", "to", "disclosures"}, and "pruned" when the range
// reaches back before the prune checkpoint).
func writeReport(w io.Writer, format, patient string, from, to time.Time, pruned *audit.Checkpoint, ds []audit.Disclosure, entries []audit.Entry) error {
	switch format {
	case "csv":
		return audit.WriteCSV(w, ds)
	case "fhir":
		return json.NewEncoder(w).Encode(audit.AuditEventBundle(entries, time.Now()))
	}
	if ds == nil {
		ds = []audit.Disclosure{}
	}
	body := map[string]any{"patient": patient, "from": timeOrNull(from), "to": timeOrNull(to), "disclosures": ds}
	if pruned != nil {
		body["pruned"] = map[string]any{"through": pruned.Time, "through_seq": pruned.Seq, "export": pruned.Export,
			"note": "entries up to this time were pruned from the ledger into export files: disclosures before it are in those files, not here"}
	}
	return json.NewEncoder(w).Encode(body)
}

// timeOrNull is t, or nil (JSON null) when zero.
func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// writeOut runs write on stdout for "-", else on path: into a new file
// beside it, fsynced and renamed over path only once write succeeded, so a
// report or export that fails (a damaged entry, an interrupt, a full disk)
// leaves no partial file and keeps what path held. A path that exists and
// is no regular file (/dev/stdout, a pipe) is written directly.
//
// It refuses a path in the data directory dataDir (the database, its
// journal, the keys) and an existing prune export (ledger-*.ndjson): an
// export with --out DATA/ds4p.db truncated the database under the open
// ledger, crashing with SIGBUS and leaving no ledger at all.
func writeOut(path, dataDir string, stdout io.Writer, write func(io.Writer) error) error {
	return writeOutMode(path, dataDir, 0o600, stdout, write)
}

// writeOutMode is writeOut leaving the file with permissions mode, for
// output that is no report (a policy bundle a file server serves); reports
// and exports stay 0600 since they hold PHI.
func writeOutMode(path, dataDir string, mode fs.FileMode, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	if err := checkOutPath(path, dataDir); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return usagef("--out %s is a directory: give a file name", path)
		}
		file, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return errors.Join(write(file), file.Close())
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // name the file asked for, not the temporary one
			err = pe.Err
		}
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := errors.Join(write(tmp), tmp.Chmod(mode), tmp.Sync(), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // the rename durable too
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// checkOutPath refuses an output path whose directory is the data
// directory, or that names an existing prune export: writing it would
// replace the ledger's own files or the only copy of pruned entries.
func checkOutPath(path, dataDir string) error {
	if dfi, err := os.Stat(dataDir); err == nil {
		if pfi, err := os.Stat(filepath.Dir(path)); err == nil && os.SameFile(pfi, dfi) {
			return usagef("--out %s is in the data directory %s, which holds the database, its journal and keys: write reports and exports elsewhere", path, dataDir)
		}
	}
	if ok, _ := filepath.Match("ledger-*.ndjson", filepath.Base(path)); ok {
		if _, err := os.Lstat(path); err == nil {
			return usagef("--out %s is a prune export, which may be the only copy of the entries it holds: write elsewhere", path)
		}
	}
	return nil
}

// runAuditExport writes entries as NDJSON in seq order.
func runAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAuditFlags("export", args, stdout, stderr)
	out := f.fs.String("out", "", "output file, required (- for standard output)")
	from, to, err := f.parse(args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	l, closeDB, err := openLedger(*f.data, false, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	n := 0
	err = writeOut(*out, *f.data, stdout, func(w io.Writer) error {
		n, err = l.Export(ctx, from, to, w)
		return err
	})
	if err == nil && *out != "-" {
		fmt.Fprintf(stderr, "exported %s to %s\n", plural(n, "entry", "entries"), *out)
	}
	return err
}

// runAuditVerify checks the chain; any break is an error (exit 1). A run
// that fails says ok about nothing on stdout (QA round 40): a script
// keeping stdout as the verification record kept "ok: N entries
// verified" from a run whose recorded head (or, after the exports
// verified, whose chain) then failed. Its other lines stay.
func runAuditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out bytes.Buffer
	err := verifyLedger(ctx, args, &out, stderr)
	if err == nil {
		_, werr := stdout.Write(out.Bytes())
		return werr
	}
	for _, line := range strings.SplitAfter(out.String(), "\n") {
		if !strings.HasPrefix(line, "ok:") {
			_, _ = io.WriteString(stdout, line)
		}
	}
	return err
}

// verifyLedger is runAuditVerify writing to stdout as it goes.
func verifyLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit verify", auditHelp, stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	data := fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)")
	exports := fs.String("exports", "", "also verify the prune exports (ledger-*.ndjson) in this directory, from genesis to the checkpoint")
	head := fs.String("head", "", "SEQ:HASH printed by an earlier verify and kept elsewhere: check that the chain still holds that entry")
	retention := fs.String("retention", os.Getenv("DS4P_LEDGER_RETENTION"), "the shortest ledger.retention ever configured: fail if entries younger than that were pruned (default $DS4P_LEDGER_RETENTION; empty: not checked)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	want, err := parseHead(*head)
	if err != nil {
		return err
	}
	keep := time.Duration(0)
	if *retention != "" {
		if keep, err = parseRetention(*retention); err != nil {
			return usagef("--retention: %v", err)
		}
	}
	// Strictly read-only: neither ds4p.db nor its journal is written; what
	// the journal holds beyond the file is checked from the journal.
	l, closeDB, err := openLedgerAs(*data, false, false, stderr, audit.WithMinRetention(keep), audit.WithPendingJournal())
	if errors.Is(err, errNoLedger) {
		// No crash leaves a journal of entries beside a database without a
		// ledger (Open creates it before the first append), and a recorded
		// head names an entry that must be there: the ledger was removed.
		first, last, err := audit.JournalSpan(filepath.Join(*data, DBFile))
		switch {
		case err != nil:
			return err
		case last > 0:
			return &audit.BrokenError{Seq: first, Reason: fmt.Sprintf("the database holds no ledger, but its journal (%s) holds entries seq %d to %d: the ledger was removed from %s",
				audit.JournalPath(DBFile), first, last, DBFile)}
		case want != nil:
			return fmt.Errorf("the recorded entry %d is not in the ledger: the database holds no ledger (it was removed, or --data is wrong)", want.Seq)
		}
		fmt.Fprintln(stdout, "ok: 0 entries verified")
		warnEmptyLedger(stderr, 0)
		fmt.Fprintln(stdout, "head: none (no entry yet to record)")
		return nil
	}
	if err != nil {
		return err
	}
	defer closeDB()
	cp, auth, err := l.CheckpointStatus(ctx)
	if err != nil {
		return err
	}
	var proven *audit.Checkpoint
	if cp.Seq > 0 {
		fmt.Fprintf(stdout, "pruned: seq 1 to %d, pruned %s (the latest pruned entry of %s), into %s; checkpoint %s\n",
			cp.Seq, cp.PrunedAt.UTC().Format(time.RFC3339), cp.Time.UTC().Format(time.RFC3339), shownText(cp.Export), auth)
	}
	if *exports != "" {
		if _, err := verifyExports(l, *exports, cp, stdout); err != nil {
			return err
		}
		proven = &cp // the exports chain from genesis to it, under the chain key
	}
	res, err := l.VerifyWith(ctx, audit.VerifyOptions{Proven: proven})
	if err != nil {
		return fmt.Errorf("%w (after %s)", err, plural(res.N, "good entry", "good entries"))
	}
	warnCheckpoint(stderr, res, *exports != "", keep)
	if res.Pending > 0 {
		fmt.Fprintf(stderr, "ds4p audit: warning: the last %s (seq %d to %d) are in the journal (%s) but not in %s: "+
			"ds4p stopped without storing them (a crash), or they were deleted from the file. Verified from the journal and left there; "+
			"the next read-write open (serve, or another ds4p audit command) stores them\n",
			plural(res.Pending, "entry", "entries"), res.HeadSeq-res.Pending+1, res.HeadSeq, audit.JournalPath(DBFile), DBFile)
	}
	n := res.N
	if n == 0 {
		fmt.Fprintln(stdout, "ok: 0 entries verified")
		warnEmptyLedger(stderr, res.Checkpoint.Seq)
	} else {
		fmt.Fprintf(stdout, "ok: %s verified (seq %d to %d)\n", plural(n, "entry", "entries"), res.Checkpoint.Seq+1, res.Checkpoint.Seq+n)
	}
	if want != nil {
		if err := checkRecordedHead(ctx, l, *want, *exports); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ok: the chain still holds the recorded entry %d:%s\n", want.Seq, want.Hash)
	}
	if res.HeadSeq == 0 {
		fmt.Fprintln(stdout, "head: none (no entry yet to record)")
		return nil
	}
	fmt.Fprintf(stdout, "head: %d:%s (keep it off this host; check it later with --head)\n", res.HeadSeq, res.HeadHash)
	return nil
}

// warnCheckpoint says what a verify that started from a prune checkpoint
// could not rule out.
func warnCheckpoint(stderr io.Writer, res audit.VerifyResult, exports bool, keep time.Duration) {
	switch {
	case res.Checkpoint.Seq == 0:
		return
	case res.CheckpointAuth == audit.CheckpointPlaintext && !exports:
		fmt.Fprintf(stderr, "ds4p audit: warning: verified from the prune checkpoint (seq %d), which nothing authenticates in a plaintext ledger: "+
			"someone able to write ds4p.db could have deleted the oldest entries and written it. Only the exports (--exports DIR) "+
			"or a head recorded off this host (--head) show that; an encrypted ledger authenticates its checkpoint\n", res.Checkpoint.Seq)
	case res.CheckpointAuth == audit.CheckpointUnauthenticated && exports:
		fmt.Fprintf(stderr, "ds4p audit: warning: the encrypted ledger's prune checkpoint (seq %d) carries no MAC (written by an older ds4p); "+
			"accepted because the exports chain from genesis to it. Record that, with serve stopped: ds4p audit checkpoint --authenticate --exports DIR\n", res.Checkpoint.Seq)
	}
	if keep == 0 {
		fmt.Fprintln(stderr, "ds4p audit: note: the retention was not checked against the checkpoint (give --retention, or set DS4P_LEDGER_RETENTION)")
	}
}

// envRetention is DS4P_LEDGER_RETENTION, 0 when unset.
func envRetention() (time.Duration, error) {
	v := os.Getenv("DS4P_LEDGER_RETENTION")
	if v == "" {
		return 0, nil
	}
	d, err := parseRetention(v)
	if err != nil {
		return 0, fmt.Errorf("DS4P_LEDGER_RETENTION: %w", err)
	}
	return d, nil
}

// runAuditCheckpoint prints the prune checkpoint and, with
// --authenticate, records the MAC of an encrypted ledger's checkpoint
// that an older ds4p wrote without one, once the exports vouch for it.
func runAuditCheckpoint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit checkpoint", auditHelp, stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	data := fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)")
	exports := fs.String("exports", "", "the prune exports (default DATA/"+DefaultExportDir+")")
	authenticate := fs.Bool("authenticate", false, "record the checkpoint's MAC under the storage key, after checking that the exports chain from genesis to it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	l, closeDB, err := openLedger(*data, *authenticate, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	cp, auth, err := l.CheckpointStatus(ctx)
	if err != nil {
		return err
	}
	if cp.Seq == 0 {
		fmt.Fprintln(stdout, "checkpoint: none (nothing was pruned)")
		return nil
	}
	fmt.Fprintf(stdout, "checkpoint: seq %d hash %s, the latest pruned entry of %s, pruned %s into %s (sha256 %s); %s\n",
		cp.Seq, shownText(cp.Hash), cp.Time.UTC().Format(time.RFC3339), cp.PrunedAt.UTC().Format(time.RFC3339), shownText(cp.Export), shownText(cp.ExportSHA256), auth)
	if !*authenticate {
		return nil
	}
	if auth != audit.CheckpointUnauthenticated {
		return fmt.Errorf("nothing to authenticate: the checkpoint is %s", auth)
	}
	// What the exports show is authenticated, their latest time included:
	// the stored time is whatever the file says (QA round 41, area C).
	proven, err := verifyExports(l, ledgerExportDir(*data, *exports), cp, stdout)
	if err != nil {
		return fmt.Errorf("%w; the checkpoint stays unauthenticated", err)
	}
	if proven.Export != cp.Export || proven.ExportSHA256 != cp.ExportSHA256 {
		fmt.Fprintf(stdout, "note: the checkpoint named the export %s (sha256 %s); the export holding its entry is %s (sha256 %s), which is recorded\n",
			shownText(cp.Export), shownText(cp.ExportSHA256), shownText(proven.Export), proven.ExportSHA256)
	}
	if err := l.AuthenticateCheckpoint(ctx, proven); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "ok: checkpoint authenticated")
	return nil
}

// warnEmptyLedger says that a verify of a ledger without entries proves
// nothing: a new data directory has none, but neither has one whose
// ledger was removed or replaced by a new database.
func warnEmptyLedger(stderr io.Writer, checkpoint uint64) {
	held, expected, served := "the ledger holds no entries", "before serve has answered a request", "has served requests"
	if checkpoint > 0 {
		held = fmt.Sprintf("the ledger holds no entries after the prune checkpoint (seq %d)", checkpoint)
		expected, served = "when every entry was older than the retention and pruned", "has served requests since"
	}
	fmt.Fprintf(stderr, "ds4p audit: warning: %s, so there is nothing to verify. "+
		"That is expected %s; if this data directory %s, "+
		"its entries were removed, and only a head recorded elsewhere can show that "+
		"(ds4p audit verify --head SEQ:HASH, with a head printed by an earlier verify)\n", held, expected, served)
}

// parseHead reads SEQ:HASH; "" is nil.
func parseHead(s string) (*audit.Checkpoint, error) {
	if s == "" {
		return nil, nil
	}
	seqText, hash, ok := strings.Cut(s, ":")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if !ok || err != nil || seq == 0 || len(hash) != len(audit.GenesisHash) {
		return nil, usagef("--head %q: want SEQ:HASH as printed by verify", s)
	}
	return &audit.Checkpoint{Seq: seq, Hash: hash}, nil
}

// checkRecordedHead checks that entry want.Seq, in the ledger or (pruned)
// in the exports, still has want.Hash: a ledger rewritten from that entry
// on, however consistent, fails here.
//
// A plaintext ledger's prune checkpoint vouches for nothing: someone who
// deleted entries 1..N and wrote a checkpoint with N's hash (printed by
// verify, carried by the SIEM stream) made HashAt(N) answer that hash, so
// a head recorded at N passed. There, an entry at or before the
// checkpoint is looked up in the exports (which verify has checked to
// chain from genesis to the checkpoint) only.
func checkRecordedHead(ctx context.Context, l *audit.Ledger, want audit.Checkpoint, exports string) error {
	cp, auth, err := l.CheckpointStatus(ctx)
	if err != nil {
		return err
	}
	var hash string
	var ok bool
	if auth == audit.CheckpointPlaintext && want.Seq <= cp.Seq {
		if exports == "" {
			return fmt.Errorf("the recorded entry %d is at or before the prune checkpoint (seq %d), which nothing authenticates in a plaintext ledger: "+
				"give --exports DIR, whose entries must chain from genesis to it", want.Seq, cp.Seq)
		}
	} else if hash, ok, err = l.HashAt(ctx, want.Seq); err != nil {
		return err
	}
	if !ok && exports != "" {
		hash, ok, err = exportedHash(exports, want.Seq, cp.Seq)
		if err != nil {
			return err
		}
	}
	switch {
	case !ok:
		return fmt.Errorf("the recorded entry %d is not in the ledger (pruned: give --exports; or entries were removed)", want.Seq)
	case hash != want.Hash:
		return &audit.BrokenError{Seq: want.Seq, Reason: "the entry's hash differs from the one recorded: the ledger was rewritten"}
	}
	return nil
}

// exportedHash finds the hash of entry seq in the prune exports that
// verifyExports checked: none starting after the checkpoint, which it sets
// aside unread (an unfinished prune's, or a file anyone put there: one
// line holding a recorded head's hash made a ledger set back to an older
// copy pass --head).
func exportedHash(dir string, seq, checkpoint uint64) (string, bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "ledger-*.ndjson"))
	if err != nil {
		return "", false, err
	}
	for _, name := range files {
		if first, _, ok := audit.ParseExportName(filepath.Base(name)); ok && first > checkpoint {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return "", false, err
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			var e struct {
				Seq  uint64 `json:"seq"`
				Hash string `json:"hash"`
			}
			if json.Unmarshal(line, &e) == nil && e.Seq == seq {
				return e.Hash, true, nil
			}
		}
	}
	return "", false, nil
}

// verifyExports checks that the prune exports chain from genesis to cp,
// and returns the checkpoint they end at (with the latest time of the
// exported entries).
func verifyExports(l *audit.Ledger, dir string, cp audit.Checkpoint, stdout io.Writer) (audit.Checkpoint, error) {
	files, err := filepath.Glob(filepath.Join(dir, "ledger-*.ndjson"))
	if err != nil {
		return cp, err
	}
	sort.Strings(files) // zero-padded seqs: name order is chain order
	at, total, beyond := audit.Checkpoint{Hash: audit.GenesisHash}, 0, 0
	for _, name := range files {
		if first, _, ok := audit.ParseExportName(filepath.Base(name)); ok && first > cp.Seq {
			// Written by a prune whose delete did not commit: its entries
			// are still in the ledger, verified there; the next prune
			// removes it.
			fmt.Fprintf(stdout, "note: %s starts after the checkpoint (seq %d): a prune that did not finish wrote it, and its entries are still in the ledger; the next prune removes it\n", filepath.Base(name), cp.Seq)
			beyond++
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return cp, err
		}
		var n int
		if at, n, err = l.VerifyNDJSON(strings.NewReader(string(b)), at); err != nil {
			return cp, fmt.Errorf("%s: %w", shownText(filepath.Base(name)), err)
		}
		if n > 0 { // the export holding the checkpoint's entry, as Prune names it
			sum := sha256.Sum256(b)
			at.Export, at.ExportSHA256 = filepath.Base(name), hex.EncodeToString(sum[:])
		}
		total += n
	}
	if at.Seq != cp.Seq || at.Hash != cp.Hash {
		return cp, fmt.Errorf("the exports end at seq %d but the checkpoint is seq %d (or its hash differs)", at.Seq, cp.Seq)
	}
	fmt.Fprintf(stdout, "ok: %s in %s chain up to the checkpoint (seq %d)\n", plural(total, "exported entry", "exported entries"), plural(len(files)-beyond, "file", "files"), cp.Seq)
	return at, nil
}

// runAuditPrune exports and deletes entries older than the retention.
func runAuditPrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit prune", auditHelp, stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	data := fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)")
	retention := fs.String("retention", "6y", "keep entries this long: "+retentionUnits+`; "m" would be minutes, not months`)
	exportDir := fs.String("export-dir", "", "directory of the exports written before deleting (default DATA/"+DefaultExportDir+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	keep, err := parseRetention(*retention)
	if err != nil {
		return &usageError{err.Error()}
	}
	if keep == 0 {
		return usagef("--retention 0 keeps everything; nothing to prune")
	}
	l, closeDB, err := openLedger(*data, true, stderr)
	if err != nil {
		return err
	}
	defer closeDB()
	res, err := l.Prune(ctx, time.Now().Add(-keep), ledgerExportDir(*data, *exportDir))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pruned %s into %s; checkpoint seq %d\n", plural(res.Pruned, "entry", "entries"), plural(len(res.Files), "export file", "export files"), res.Checkpoint.Seq)
	for _, f := range res.Files {
		fmt.Fprintln(stdout, f)
	}
	return nil
}

// ledgerExportDir is dir, or the default inside the data directory.
func ledgerExportDir(dataDir, dir string) string {
	if dir != "" {
		return dir
	}
	return filepath.Join(dataDir, DefaultExportDir)
}

// LedgerConfig is the `ledger:` section of the serve configuration.
type LedgerConfig struct {
	// Retention is how long entries are kept before a prune exports and
	// deletes them: whole years, days or hours, at least a day ("6y",
	// "180d", "1y30d", "52608h", see parseRetention); "0" keeps
	// everything. Default 6y (52608h).
	Retention string `yaml:"retention"`
	// ExportDir receives the exports of pruned entries (default
	// DATA/ledger-exports).
	ExportDir string `yaml:"export_dir"`
	// JournalBytes is the size of the ledger's write-ahead journal
	// (DATA/ds4p.db-ledger-journal): an append returns once its entries
	// are fdatasynced there, and they are stored in ds4p.db right behind.
	// 0 turns it off (every append waits for a bbolt commit). A smaller
	// existing journal is grown, a larger one kept. Default 1 MiB.
	JournalBytes int64 `yaml:"journal_bytes"`
}

// maxJournalBytes bounds ledger.journal_bytes: recovery reads it whole.
const maxJournalBytes = 1 << 30

// defaultLedgerConfig keeps six years, with the default journal.
func defaultLedgerConfig() LedgerConfig {
	return LedgerConfig{Retention: "6y", JournalBytes: audit.DefaultJournalSize}
}

// validate reports a retention that does not parse and a journal size out
// of range.
func (c LedgerConfig) validate() []error {
	var errs []error
	if _, err := parseRetention(c.Retention); err != nil {
		errs = append(errs, fmt.Errorf("ledger.retention: %w", err))
	}
	if c.JournalBytes != 0 && (c.JournalBytes < audit.MinJournalSize || c.JournalBytes > maxJournalBytes) {
		errs = append(errs, fmt.Errorf("ledger.journal_bytes: %d is outside %d..%d (0 turns the journal off)", c.JournalBytes, audit.MinJournalSize, maxJournalBytes))
	}
	return errs
}

// retentionUnits says how a retention is written.
const retentionUnits = "whole years (y), days (d) or hours (h) adding up to at least a day, as in 6y, 180d, 1y30d or 52608h (a year is 365⅓ days), or 0 to keep everything"

// parseRetention reads a ledger retention (audit.ParseRetention) and
// refuses one under a day or with minutes or seconds in it: the ledger is
// kept for years, so "6m" or "1y6m" (minutes, in a Go duration) is a
// month misread, and a prune under it would export and delete nearly
// every entry. "0" keeps everything.
func parseRetention(s string) (time.Duration, error) {
	d, err := audit.ParseRetention(s)
	switch {
	case err != nil:
		return 0, err
	case d == 0:
		return 0, nil
	case d%time.Hour != 0:
		return 0, fmt.Errorf("retention %q has minutes or seconds in it (m is minutes, not months; for months give days, 180d): want %s", strings.TrimSpace(s), retentionUnits)
	case d < audit.Day:
		return 0, fmt.Errorf("retention %q is under a day: want %s", strings.TrimSpace(s), retentionUnits)
	}
	return d, nil
}

// pruneInterval is how often serve prunes the ledger.
const pruneInterval = 24 * time.Hour

// startLedgerPruner prunes the ledger at start and then daily while ctx
// lives, unless the retention is 0. It logs counts, never entry content.
func startLedgerPruner(ctx context.Context, cfg Config, l *audit.Ledger, log *slog.Logger) {
	keep, err := parseRetention(cfg.Ledger.Retention)
	if err != nil || keep == 0 {
		return
	}
	dir := ledgerExportDir(cfg.DataDir, cfg.Ledger.ExportDir)
	go func() {
		t := time.NewTicker(pruneInterval)
		defer t.Stop()
		for {
			res, err := l.Prune(ctx, time.Now().Add(-keep), dir)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("ledger prune failed; entries kept", "error", err.Error())
			case res.Pruned > 0:
				log.Info("ledger pruned", "entries", res.Pruned, "files", len(res.Files), "checkpoint_seq", res.Checkpoint.Seq)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

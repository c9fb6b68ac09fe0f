package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/proxy"
	"go.etcd.io/bbolt"
)

const consentHelp = `Manages the patients' FHIR Consents in the data directory's database:

  ds4p consent import [--data DIR] PATH...      store Consents from JSON files (a
                                                Consent or a Bundle of them), NDJSON
                                                files (one per line), gzipped or
                                                not, directories of those, or -
                                                (stdin: NDJSON or one JSON resource)
  ds4p consent list   [--data DIR] [--patient P] [--status S] [--actor A]
                      [--category C] [--period D] [--ndjson]
  ds4p consent show   [--data DIR] [--version N | --history] ID
  ds4p consent revoke [--data DIR] [--status inactive|entered-in-error|rejected] ID

These commands open DIR/ds4p.db directly, so ` + "`ds4p serve`" + ` must not be running on
the same data directory (it holds the database's lock). While it runs, use its
admin API instead: POST /admin/Consent, GET /admin/Consent?patient=...,
POST /admin/Consent/ID/$revoke. A consent with an id becomes the next version
of that consent; every earlier version is kept. import stores nothing for a
consent already stored as it is (counted unchanged), and refuses an active
one that is an earlier version of a stored consent (the same as a version
since replaced, or dated before it): an old export imported again would undo
a revocation. It also refuses to make a revoked consent active again unless
the new one is dated (dateTime) after it. An earlier version that is not
active is stored: it withdraws.`

// runConsent is `ds4p consent import|list|show|revoke`.
func runConsent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, args, stdout, stderr, consentHelp, []subcommand{
		{"import", runConsentImport}, {"list", runConsentList}, {"show", runConsentShow}, {"revoke", runConsentRevoke},
	})
}

// consentFlags returns a flag set for one subcommand with its --data flag.
func consentFlags(name string, args []string, stdout, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := newFlagSet("consent "+name, consentHelp, stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	return fs, fs.String("data", offlineDataDir(), "data directory holding ds4p.db (DS4P_DATA_DIR when set)")
}

// openConsents opens the consent store of a data directory. create says
// whether a missing database may be created (import) or is an error; the
// versions the store writes name the subcommand and the user who ran it
// (cliAuthor).
func openConsents(dir string, create bool, subcommand string) (*consent.Store, func() error, error) {
	path := filepath.Join(dir, DBFile)
	_, statErr := os.Stat(path)
	if statErr != nil && !create {
		return nil, nil, fmt.Errorf("no database at %s (is --data right?)", path)
	}
	isNew := statErr != nil
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating data directory: %w", err)
	}
	db, err := openBolt(path, &bbolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, nil, fmt.Errorf("%s is locked: is `ds4p serve` running on this data directory? "+
			"Stop it, or use its admin API (/admin/Consent) instead", path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// A database import makes is made as serve makes one: encrypted, with
	// a new key file, unless DS4P_STORAGE_ENCRYPTION=off. An existing one
	// is opened as it is (the offline commands do not read serve's config,
	// so they must not encrypt a store serve keeps in plaintext).
	sealer, err := openSealer(db, cliStorage(), dir, isNew) // keyscmd.go
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	store, err := consent.Open(db, append(consentSealing(sealer), consent.WithAuthor(cliAuthor(subcommand)))...)
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return store, db.Close, nil
}

// runConsentList prints the consents a search selects.
func runConsentList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := consentFlags("list", args, stdout, stderr)
	params := map[string]*string{}
	for _, p := range []string{"patient", "status", "actor", "category"} {
		params[p] = fs.String(p, "", "search parameter "+p+" (FHIR syntax; comma-separated values match any)")
	}
	var periods repeated
	fs.Var(&periods, "period", "search parameter period with prefix, e.g. ge2026-01-01 (repeatable)")
	ndjson := fs.Bool("ndjson", false, "print each consent's JSON on one line instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	// Every filter given, an empty one too: ParseQuery refuses it, as the
	// admin API does ?patient=. Left out, --patient "$P" with P unset
	// listed every patient's consents as if they were P's.
	values := url.Values{}
	fs.Visit(func(fl *flag.Flag) {
		if _, ok := params[fl.Name]; ok {
			values.Set(fl.Name, fl.Value.String())
		}
	})
	if len(periods) > 0 {
		values["period"] = periods
	}
	q, err := consent.ParseQuery(values)
	if err != nil {
		// A filter value of the wrong form (--status Active, --period
		// xyz) is a usage error, as a flag of the wrong form is: exit 2.
		return &usageError{err.Error()}
	}
	store, closeDB, err := openConsents(*data, false, "list")
	if err != nil {
		return err
	}
	defer closeDB()
	recs, err := store.Search(ctx, q)
	if err != nil {
		return err
	}
	if *ndjson {
		for _, r := range recs {
			fmt.Fprintf(stdout, "%s\n", r.JSON)
		}
		return nil
	}
	return printRecords(stdout, recs)
}

// repeated is a flag that may be given more than once.
type repeated []string

func (r *repeated) String() string     { return fmt.Sprint(*r) }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// printRecords writes one line per consent version, with who wrote it:
// "(not recorded)" for versions stored before writers were recorded.
func printRecords(w io.Writer, recs []consent.Record) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tSTATUS\tPATIENT\tUPDATED\tWRITTEN BY")
	for _, r := range recs {
		by := r.Author
		if by == "" {
			by = "(not recorded)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.ID, r.Version, r.Status, r.Patient, r.Updated.Format(time.RFC3339), by)
	}
	return tw.Flush()
}

// cliAuthor names a command-line write for Record.Author: the subcommand,
// the operating-system user and the host ("ds4p consent import by
// alice@host1"), and the user sudo was run by.
func cliAuthor(subcommand string) string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = "uid " + strconv.Itoa(os.Getuid())
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		name += "@" + host
	}
	if by := os.Getenv("SUDO_USER"); by != "" {
		name += " (sudo by " + by + ")"
	}
	return "ds4p consent " + subcommand + " by " + name
}

// runConsentShow prints one consent (latest or --version N) as indented
// JSON, or the list of its versions (--history).
func runConsentShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := consentFlags("show", args, stdout, stderr)
	version := fs.Uint64("version", 0, "show this version instead of the latest")
	history := fs.Bool("history", false, "list every version instead")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	id, err := oneID(fs)
	if err != nil {
		return err
	}
	store, closeDB, err := openConsents(*data, false, "show")
	if err != nil {
		return err
	}
	defer closeDB()
	if *history {
		recs, err := store.History(ctx, id)
		if err != nil {
			return notFound(id, err)
		}
		return printRecords(stdout, recs)
	}
	rec, err := showRecord(ctx, store, id, *version)
	if err != nil {
		return notFound(id, err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, rec.JSON, "", "  "); err != nil {
		return err
	}
	fmt.Fprintln(stdout, buf.String())
	return nil
}

// showRecord reads the latest version, or version when not 0.
func showRecord(ctx context.Context, store *consent.Store, id string, version uint64) (consent.Record, error) {
	if version == 0 {
		return store.Get(ctx, id)
	}
	return store.Version(ctx, id, version)
}

// runConsentRevoke stores a new version of a consent with a revoked status.
func runConsentRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := consentFlags("revoke", args, stdout, stderr)
	status := fs.String("status", "inactive", "the status to set: inactive, entered-in-error or rejected")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	id, err := oneID(fs)
	if err != nil {
		return err
	}
	switch *status {
	case "inactive", "entered-in-error", "rejected":
	default:
		return usagef("--status %q: give inactive, entered-in-error or rejected", *status)
	}
	store, closeDB, err := openConsents(*data, false, "revoke")
	if err != nil {
		return err
	}
	defer closeDB()
	rec, changed, err := store.Revoke(ctx, id, *status)
	if err != nil {
		return notFound(id, err)
	}
	if !changed {
		fmt.Fprintf(stdout, "%s is already %s (version %d); nothing changed\n", id, rec.Status, rec.Version)
		return nil
	}
	fmt.Fprintf(stdout, "%s revoked: version %d, status %s\n", id, rec.Version, rec.Status)
	return nil
}

// oneID returns the single positional argument.
func oneID(fs *flag.FlagSet) (string, error) {
	if fs.NArg() != 1 {
		return "", usagef("give exactly one consent id")
	}
	return fs.Arg(0), nil
}

// notFound words ErrNotFound for the command line.
func notFound(id string, err error) error {
	if errors.Is(err, consent.ErrNotFound) {
		return fmt.Errorf("no consent %s (or no such version)", strconv.Quote(id))
	}
	return err
}

// ConsentsConf is the consents: section of the serve configuration: where
// the response pipeline's consents come from besides ds4p's store, and how
// consents' actors are resolved (consent/README.md).
//
//	consents:
//	  upstream: on_demand        # off (default) | on_demand | sync
//	  upstream_ttl: 30s          # on_demand: how long a patient's upstream consents are kept
//	  upstream_cache_size: 4096  # on_demand: patients kept
//	  sync_interval: 1m          # sync: period
//	  max_upstream_consents: 1000
//	  directory: /etc/ds4p/directory.yaml  # actor references ↔ identifiers
//	  resolve_actors: true       # also read Organization/x ... from the upstream
//	  patient_identifier_system: urn:oid:2.16.840.1.113883.19.5  # consents may name their patient by this identifier
type ConsentsConf struct {
	Upstream          string        `yaml:"upstream"`
	UpstreamTTL       time.Duration `yaml:"upstream_ttl"`
	UpstreamCacheSize int           `yaml:"upstream_cache_size"`
	SyncInterval      time.Duration `yaml:"sync_interval"`
	MaxUpstream       int           `yaml:"max_upstream_consents"`
	Directory         string        `yaml:"directory"`
	ResolveActors     bool          `yaml:"resolve_actors"`
	PatientIDSystem   string        `yaml:"patient_identifier_system"`
	// DateZone is the IANA zone ("America/New_York") a consent's dates
	// without a time are read in; empty reads them zoneless, the safe way
	// (consent.SetDateZone).
	DateZone string `yaml:"date_zone"`
}

// dateZone returns the zone of date_zone, nil when it is empty.
func (c ConsentsConf) dateZone() (*time.Location, error) {
	if c.DateZone == "" {
		return nil, nil
	}
	// "Local" would be the zone of whatever machine runs ds4p, and "UTC"
	// would say less than it seems: consent forms are dated where they are
	// signed, so name that place.
	if c.DateZone == "Local" || !strings.Contains(c.DateZone, "/") && c.DateZone != "UTC" {
		return nil, fmt.Errorf("consents.date_zone: %q is not an IANA zone such as America/New_York", c.DateZone)
	}
	loc, err := time.LoadLocation(c.DateZone)
	if err != nil {
		return nil, fmt.Errorf("consents.date_zone: %q is not an IANA zone such as America/New_York", c.DateZone)
	}
	return loc, nil
}

// validate reports every problem with the section, including a directory
// file that cannot be read.
func (c ConsentsConf) validate() []error {
	var errs []error
	if err := c.sourcesWithout().Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.dateZone(); err != nil {
		errs = append(errs, err)
	}
	if c.Directory != "" {
		if _, err := consent.LoadDirectory(c.Directory); err != nil {
			errs = append(errs, fmt.Errorf("consents.directory: %w", err))
		}
	}
	return errs
}

// sourcesWithout is the proxy configuration without the directory loaded.
func (c ConsentsConf) sourcesWithout() proxy.ConsentSources {
	return proxy.ConsentSources{
		Upstream: c.Upstream, TTL: c.UpstreamTTL, CacheSize: c.UpstreamCacheSize,
		SyncInterval: c.SyncInterval, MaxConsents: c.MaxUpstream, ResolveActors: c.ResolveActors,
		PatientIdentifierSystem: c.PatientIDSystem,
	}
}

// sources loads the directory and returns the proxy configuration.
func (c ConsentsConf) sources() (proxy.ConsentSources, error) {
	s := c.sourcesWithout()
	if c.Directory != "" {
		d, err := consent.LoadDirectory(c.Directory)
		if err != nil {
			return s, fmt.Errorf("consents.directory: %w", err)
		}
		s.Directory = d
	}
	return s, nil
}

// useConsentSources wires the consents: section into the proxy.
func useConsentSources(ctx context.Context, c ConsentsConf, srv *proxy.Server) error {
	sources, err := c.sources()
	if err != nil {
		return err
	}
	return srv.UseConsentSources(ctx, sources)
}

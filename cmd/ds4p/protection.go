package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/seal"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/siem"
	"go.etcd.io/bbolt"
)

// ProtectionConfig is the `protection:` section: per-caller rate limits
// and bulk-access detection. Both are on by default with generous limits
// (a production proxy should never be without them, and no interactive
// user or ordinary integration meets the defaults); set enabled: false to
// turn one off, e.g. for load tests.
type ProtectionConfig struct {
	RateLimits RateLimitsConfig `yaml:"rate_limits"`
	Bulk       BulkConfig       `yaml:"bulk"`
}

// LimitConfig is one token bucket: rate requests a second, burst saved up;
// rate 0 lifts the limit of the class.
type LimitConfig struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// RateLimitsConfig is protection.rate_limits (proxy.RateLimits). Limits
// are per subject; a client's bucket is client_factor times, an
// organisation's org_factor times as large. A request takes a token from
// the buckets of its subject, its client and its organisation.
type RateLimitsConfig struct {
	Enabled      bool        `yaml:"enabled"`
	Read         LimitConfig `yaml:"read"`
	Search       LimitConfig `yaml:"search"`
	Everything   LimitConfig `yaml:"everything"`
	Write        LimitConfig `yaml:"write"`
	Admin        LimitConfig `yaml:"admin"`
	ClientFactor float64     `yaml:"client_factor"`
	OrgFactor    float64     `yaml:"org_factor"`
	MaxTracked   int         `yaml:"max_tracked"`
}

// BulkConfig is protection.bulk (proxy.BulkRules).
type BulkConfig struct {
	Enabled     bool          `yaml:"enabled"`
	Window      time.Duration `yaml:"window"`
	MaxPatients int           `yaml:"max_patients"`
	MaxWithheld int           `yaml:"max_withheld"`
	Block       bool          `yaml:"block"`
	MaxTracked  int           `yaml:"max_tracked"`
}

func defaultProtection() ProtectionConfig {
	lc := func(l proxy.Limit) LimitConfig { return LimitConfig{Rate: l.Rate, Burst: l.Burst} }
	return ProtectionConfig{
		RateLimits: RateLimitsConfig{
			Enabled: true, Read: lc(proxy.DefaultReadLimit), Search: lc(proxy.DefaultSearchLimit),
			Everything: lc(proxy.DefaultEverythingLimit), Write: lc(proxy.DefaultWriteLimit), Admin: lc(proxy.DefaultAdminLimit),
			ClientFactor: proxy.DefaultClientFactor, OrgFactor: proxy.DefaultOrgFactor, MaxTracked: proxy.DefaultMaxTracked,
		},
		Bulk: BulkConfig{
			Enabled: true, Window: proxy.DefaultBulkWindow, MaxPatients: proxy.DefaultBulkPatients,
			MaxWithheld: proxy.DefaultBulkWithheld, MaxTracked: proxy.DefaultBulkMaxTracked,
		},
	}
}

func (p ProtectionConfig) options() proxy.Protection {
	l := func(c LimitConfig) proxy.Limit { return proxy.Limit{Rate: c.Rate, Burst: c.Burst} }
	r, b := p.RateLimits, p.Bulk
	return proxy.Protection{
		RateLimits: proxy.RateLimits{
			Enabled: r.Enabled, Read: l(r.Read), Search: l(r.Search), Everything: l(r.Everything), Write: l(r.Write), Admin: l(r.Admin),
			ClientFactor: r.ClientFactor, OrgFactor: r.OrgFactor, MaxTracked: r.MaxTracked,
		},
		Bulk: proxy.BulkRules{
			Enabled: b.Enabled, Window: b.Window, MaxPatients: b.MaxPatients, MaxWithheld: b.MaxWithheld,
			Block: b.Block, MaxTracked: b.MaxTracked,
		},
	}
}

func (p ProtectionConfig) validate() []error {
	var errs []error
	if p.Bulk.Block && !p.Bulk.Enabled {
		errs = append(errs, errors.New("protection.bulk: block needs enabled"))
	}
	return append(errs, proxy.Options{Protection: p.options()}.ProtectionErrors()...)
}

// SIEMConfig is the `siem:` section: where the ledger and the security
// events are streamed. Off unless a file, syslog or otel is set.
type SIEMConfig struct {
	// File receives JSON lines (mode 0600, reopened after rotation).
	File   string       `yaml:"file"`
	Syslog SyslogConfig `yaml:"syslog"`
	// OTel emits OpenTelemetry log records through the global
	// LoggerProvider, which serve sets to OTLP/HTTP export (otel.go:
	// setupSIEMLogs; an OTLP endpoint variable is then required).
	OTel bool `yaml:"otel"`
	// Ledger streams the disclosure ledger besides the security events
	// (default true).
	Ledger bool `yaml:"ledger"`
	// PatientIDs is plain (default: the ledger stream is the audit trail
	// and names patients), hash (HMAC-SHA256 under HashKeyFile, default
	// siem.key in the data directory, made on first start) or omit.
	PatientIDs  string        `yaml:"patient_ids"`
	HashKeyFile string        `yaml:"hash_key_file"`
	Interval    time.Duration `yaml:"interval"`
	Batch       int           `yaml:"batch"`
	// MaxQueued bounds the security events waiting for delivery
	// (default siem.DefaultMaxQueued), MaxQueuedBytes the bytes of their
	// JSON (default siem.DefaultMaxQueuedBytes, 256 MiB); beyond either,
	// new ones are dropped and counted (ds4p.siem.events.dropped), and
	// token_refused and rate_limited events beyond 90 % of either.
	MaxQueued      int   `yaml:"max_queued"`
	MaxQueuedBytes int64 `yaml:"max_queued_bytes"`
}

// SyslogConfig sends RFC 5424 messages to a syslog server.
type SyslogConfig struct {
	Network  string `yaml:"network"` // udp, tcp or unix
	Address  string `yaml:"address"`
	Facility string `yaml:"facility"` // default authpriv
	// MaxDatagram bounds a message over udp or a unix datagram socket
	// (default siem.DefaultMaxDatagram, 8192; from 480 to 65507): a longer
	// record is sent as its stub ("truncated": true), whose full form the
	// file sink, TCP and the ledger keep.
	MaxDatagram int `yaml:"max_datagram"`
}

func defaultSIEM() SIEMConfig {
	return SIEMConfig{Ledger: true, PatientIDs: siem.PatientIDsPlain, Syslog: SyslogConfig{Facility: "authpriv"}}
}

func (s SIEMConfig) enabled() bool { return s.File != "" || s.Syslog.Address != "" || s.OTel }

func (s SIEMConfig) validate() []error {
	var errs []error
	switch s.PatientIDs {
	case siem.PatientIDsPlain, siem.PatientIDsHash, siem.PatientIDsOmit:
	default:
		errs = append(errs, fmt.Errorf("siem.patient_ids: %q is not plain, hash or omit", s.PatientIDs))
	}
	if s.Syslog.Address != "" {
		switch s.Syslog.Network {
		case "udp", "tcp", "unix":
		default:
			errs = append(errs, fmt.Errorf("siem.syslog.network: %q is not udp, tcp or unix", s.Syslog.Network))
		}
		if _, ok := siem.Facilities[s.Syslog.Facility]; !ok {
			errs = append(errs, fmt.Errorf("siem.syslog.facility: unknown facility %q", s.Syslog.Facility))
		}
		if m := s.Syslog.MaxDatagram; m != 0 && (m < siem.MinDatagram || m > siem.MaxUDPDatagram) {
			errs = append(errs, fmt.Errorf("siem.syslog.max_datagram: %d is not from %d to %d bytes", m, siem.MinDatagram, siem.MaxUDPDatagram))
		}
	}
	if s.Interval < 0 || s.Batch < 0 || s.MaxQueued < 0 || s.MaxQueuedBytes < 0 {
		errs = append(errs, errors.New("siem: interval, batch, max_queued and max_queued_bytes must not be negative"))
	}
	return errs
}

// protection is what serve wires for the protections and the SIEM.
type protection struct {
	queue  *siem.Queue
	alerts *proxy.BoltAlerts
}

// openProtection opens the alert store and, with a SIEM configured, the
// event queue and the exporter (running until ctx ends).
func openProtection(ctx context.Context, cfg Config, db *bbolt.DB, ledger *audit.Ledger, sealer *seal.Sealer, log *slog.Logger) (*protection, error) {
	p := &protection{}
	var err error
	// The alerts are opened with bulk detection off too: its open alerts
	// stay listed and clearable, and their blocks hold (turning detection
	// off for a load test must not pardon the callers it flagged).
	if p.alerts, err = proxy.OpenAlerts(db, alertSealing(sealer)...); err != nil {
		return nil, err
	}
	if !cfg.SIEM.enabled() {
		return p, nil
	}
	if p.queue, err = siem.OpenQueue(db, queueSealing(sealer)...); err != nil {
		return nil, err
	}
	p.queue.MaxQueued, p.queue.MaxQueuedBytes = cfg.SIEM.MaxQueued, cfg.SIEM.MaxQueuedBytes
	sinks, err := cfg.SIEM.sinks(log)
	if err != nil {
		return nil, err
	}
	xc := siem.Config{Sinks: sinks, PatientIDs: cfg.SIEM.PatientIDs, Batch: cfg.SIEM.Batch, Interval: cfg.SIEM.Interval, Logger: log}
	if cfg.SIEM.Ledger {
		xc.Ledger = ledger
	}
	if cfg.SIEM.PatientIDs == siem.PatientIDsHash {
		if xc.HashKey, err = siemHashKey(cfg); err != nil {
			return nil, err
		}
	}
	x, err := siem.NewExporter(p.queue, xc)
	if err != nil {
		return nil, err
	}
	go x.Run(ctx)
	return p, nil
}

func (s SIEMConfig) sinks(log *slog.Logger) ([]siem.Sink, error) {
	var sinks []siem.Sink
	if s.File != "" {
		f, err := siem.NewFileSink(s.File)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, f)
	}
	if s.Syslog.Address != "" {
		sl, err := siem.NewSyslogSink(s.Syslog.Network, s.Syslog.Address, s.Syslog.Facility)
		if errors.Is(err, siem.ErrSinkUnreachable) {
			// The events wait, durably, in the queue: a SIEM outage must
			// not keep the proxy from (re)starting.
			log.Warn("siem: the syslog collector is not reachable; events are kept and sent once it is", "error", err.Error())
		} else if err != nil {
			return nil, err
		}
		sl.MaxDatagram = s.Syslog.MaxDatagram
		sinks = append(sinks, sl)
	}
	if s.OTel {
		sinks = append(sinks, siem.NewOTelSink())
	}
	return sinks, nil
}

// events is the proxy's event sink: nil (dropped) without a SIEM, so that
// the queue never grows without an exporter draining it.
func (p *protection) events() siem.Emitter {
	if p.queue == nil {
		return nil
	}
	return p.queue
}

func (p *protection) alertStore() proxy.AlertStore {
	if p.alerts == nil {
		return nil
	}
	return p.alerts
}

// ledger wraps l so that each append wakes the exporter.
func (p *protection) ledger(l *audit.Ledger) proxy.Ledger {
	if p.queue == nil {
		return l
	}
	return notifyingLedger{Ledger: l, q: p.queue}
}

type notifyingLedger struct {
	*audit.Ledger
	q *siem.Queue
}

func (n notifyingLedger) Append(ctx context.Context, entries ...audit.Entry) error {
	err := n.Ledger.Append(ctx, entries...)
	if err == nil {
		n.q.Notify()
	}
	return err
}

// policyOptions report policy loads and rejections as security events.
func (p *protection) policyOptions(log *slog.Logger) []policy.Option {
	if p.queue == nil {
		return nil
	}
	q := p.queue
	return []policy.Option{policy.WithLoadHook(func(ev policy.LoadEvent) {
		e := siem.Event{Kind: siem.KindPolicyLoaded, Severity: siem.SeverityNotice, Source: ev.Source, Revision: ev.Revision}
		if !ev.Loaded {
			e.Kind, e.Severity, e.Reason = siem.KindPolicyRejected, siem.SeverityWarning, ev.Error
		}
		if err := q.Emit(e); err != nil {
			log.Error("security event could not be queued for the SIEM", "kind", e.Kind, "error", err.Error())
		}
	})}
}

// SIEMKeyFile is the default key of siem.patient_ids: hash.
const SIEMKeyFile = "siem.key"

// siemHashKey reads the HMAC key of hashed patient ids: the configured
// file, or siem.key in the data directory, made on first start, so that
// hashes stay comparable across restarts. Like the storage key file, a key
// file others than its owner may read or write is refused.
func siemHashKey(cfg Config) ([]byte, error) {
	path := cfg.SIEM.HashKeyFile
	made := path == ""
	if made {
		path = filepath.Join(cfg.DataDir, SIEMKeyFile)
		if err := makeSIEMKey(path); err != nil {
			return nil, fmt.Errorf("creating the SIEM hash key %s: %w", path, err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the SIEM hash key: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("SIEM hash key %s has mode %#o: others may read it; chmod 600 it", path, perm)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the SIEM hash key: %w", err)
	}
	if len(key) < 32 {
		hint := ""
		if made {
			// A key ds4p made is written whole or not at all; a short
			// one was never used (serve refuses it), so a new one loses
			// no hash.
			hint = "; delete it to have a new one made"
		}
		return nil, fmt.Errorf("SIEM hash key %s: %s, at least 32 are needed%s", path, plural(len(key), "byte", "bytes"), hint)
	}
	return key, nil
}

// makeSIEMKey writes a new random key to path unless a file is there,
// durably: a temporary file (mode 0600), fsynced, linked to path (never
// replacing one another process made meanwhile), and the directory
// fsynced, so that a crash leaves either no key or a whole one.
func makeSIEMKey(path string) error {
	if _, err := os.Lstat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(key)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	err = os.Link(tmp, path)
	_ = os.Remove(tmp)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

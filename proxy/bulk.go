package proxy

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Defaults of BulkRules.
const (
	DefaultBulkWindow      = 10 * time.Minute
	DefaultBulkPatients    = 200
	DefaultBulkWithheld    = 500
	DefaultBulkMaxTracked  = 100_000
	bulkSlots              = 10 // the withheld counts of a window, in slots
	AlertKindBulkPatients  = "bulk_patients"
	AlertKindBulkWithheld  = "bulk_withheld"
	bulkAlertIDPrefix      = "bulk-"
	bulkReasonPatients     = "distinct patients touched in the window reached the threshold"
	bulkReasonWithheldText = "sensitive items withheld in the window reached the threshold"
)

// BulkRules configures bulk-access detection (bulk.go). The zero value of
// each field but Enabled means its Default. A library user opts in with
// Enabled; `ds4p serve` enables it by default (protection.bulk).
type BulkRules struct {
	// Enabled turns detection on.
	Enabled bool
	// Window is the sliding window counted over.
	Window time.Duration
	// MaxPatients is the number of distinct patients one caller may touch
	// (disclosed or withheld) within Window before an alert; MaxWithheld
	// the number of items withheld or redacted from it.
	MaxPatients int
	MaxWithheld int
	// Block refuses the caller's FHIR requests (403) from the alert until
	// an auditor clears it (POST /admin/alerts/{id}/clear).
	Block bool
	// MaxTracked bounds the callers tracked; the least recently seen one
	// is dropped beyond it.
	MaxTracked int
}

func (b BulkRules) withDefaults() BulkRules {
	if b.Window == 0 {
		b.Window = DefaultBulkWindow
	}
	if b.MaxPatients == 0 {
		b.MaxPatients = DefaultBulkPatients
	}
	if b.MaxWithheld == 0 {
		b.MaxWithheld = DefaultBulkWithheld
	}
	if b.MaxTracked == 0 {
		b.MaxTracked = DefaultBulkMaxTracked
	}
	return b
}

func (b BulkRules) validate() []error {
	if b.Window < 0 || b.MaxPatients < 0 || b.MaxWithheld < 0 || b.MaxTracked < 0 {
		return []error{errors.New("protection.bulk: window, max_patients, max_withheld and max_tracked must not be negative")}
	}
	if b.Window != 0 && b.Window < time.Second {
		return []error{errors.New("protection.bulk: window must be at least 1s")}
	}
	return nil
}

// Protection groups the gateway protections of Options.
type Protection struct {
	RateLimits RateLimits
	Bulk       BulkRules
}

func (p Protection) withDefaults() Protection {
	return Protection{RateLimits: p.RateLimits.withDefaults(), Bulk: p.Bulk.withDefaults()}
}

func (p Protection) validate() []error {
	return append(p.RateLimits.validate(), p.Bulk.validate()...)
}

// bulkDetector counts, per caller, the distinct patients touched and the
// items withheld over a sliding window. Patient ids are kept only as
// 64-bit HMACs under a key made at start and never stored: no plaintext
// id outlives the request, and the set of one caller holds at most
// MaxPatients+1 of them (the crossing ends the window).
type bulkDetector struct {
	rules BulkRules
	key   []byte
	now   func() time.Time
	mu    sync.Mutex
	lru   *list.List // of *bulkCaller, most recently seen first
	by    map[string]*list.Element
	macs  sync.Pool // of HMAC-SHA256 hashes under key
}

type bulkCaller struct {
	key      string
	patients map[uint64]int64 // patient HMAC → last seen, unix ns
	withheld [bulkSlots]int
	slotAt   [bulkSlots]int64 // slot start, unix ns
	lastSeen int64
	pruned   int64
}

func newBulkDetector(rules BulkRules) *bulkDetector {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &bulkDetector{rules: rules, key: key, now: monotonicNow, lru: list.New(), by: map[string]*list.Element{}}
}

// bulkKey names the caller the detector counts for: the subject, else
// the client.
func bulkKey(c authn.Caller) string {
	if c.Subject != "" {
		return "sub:" + c.Subject
	}
	return "client:" + c.Client
}

func (d *bulkDetector) patientHash(patient string) uint64 {
	h, _ := d.macs.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, d.key)
	}
	h.Reset()
	_, _ = io.WriteString(h, patient)
	var sum [sha256.Size]byte
	v := binary.BigEndian.Uint64(h.Sum(sum[:0]))
	d.macs.Put(h)
	return v
}

// bulkCrossing is a threshold a request crossed.
type bulkCrossing struct {
	kind      string
	count     int
	threshold int
}

// observe counts the ledger entries of one request and reports a
// threshold it crossed. The caller's window starts afresh after a
// crossing, so one pull raises one alert.
func (d *bulkDetector) observe(caller authn.Caller, entries []audit.Entry) *bulkCrossing {
	hashes := make([]uint64, 0, len(entries))
	withheld := 0
	for _, e := range entries {
		if e.Patient != "" {
			hashes = append(hashes, d.patientHash(e.Patient))
		}
		withheld += len(e.Withheld) + len(e.Redacted)
	}
	if len(hashes) == 0 && withheld == 0 {
		return nil
	}
	now := d.now().UnixNano()
	d.mu.Lock()
	defer d.mu.Unlock()
	bc := d.caller(bulkKey(caller), now)
	if x := bc.addPatients(hashes, now, d.rules); x != nil {
		bc.reset()
		return x
	}
	if x := bc.addWithheld(withheld, now, d.rules); x != nil {
		bc.reset()
		return x
	}
	return nil
}

// caller returns the state of key, most recently seen now, dropping the
// least recently seen beyond MaxTracked and any idle for a whole window.
func (d *bulkDetector) caller(key string, now int64) *bulkCaller {
	if el, ok := d.by[key]; ok {
		d.lru.MoveToFront(el)
		bc := el.Value.(*bulkCaller)
		bc.lastSeen = now
		return bc
	}
	for d.lru.Len() > 0 {
		back := d.lru.Back()
		old := back.Value.(*bulkCaller)
		if d.lru.Len() < d.rules.MaxTracked && now-old.lastSeen < int64(d.rules.Window) {
			break
		}
		d.lru.Remove(back)
		delete(d.by, old.key)
	}
	bc := &bulkCaller{key: key, patients: map[uint64]int64{}, lastSeen: now, pruned: now}
	d.by[key] = d.lru.PushFront(bc)
	return bc
}

func (bc *bulkCaller) addPatients(hashes []uint64, now int64, r BulkRules) *bulkCrossing {
	if len(hashes) == 0 {
		return nil
	}
	for _, h := range hashes {
		bc.patients[h] = now
	}
	if len(bc.patients) <= r.MaxPatients && now-bc.pruned < int64(r.Window)/bulkSlots {
		return nil
	}
	bc.pruned = now
	for h, seen := range bc.patients { // deleting during range is allowed for maps
		if now-seen >= int64(r.Window) {
			delete(bc.patients, h)
		}
	}
	if n := len(bc.patients); n > r.MaxPatients {
		return &bulkCrossing{kind: AlertKindBulkPatients, count: n, threshold: r.MaxPatients}
	}
	return nil
}

func (bc *bulkCaller) addWithheld(n int, now int64, r BulkRules) *bulkCrossing {
	if n == 0 {
		return nil
	}
	slotLen := int64(r.Window) / bulkSlots
	i := int(now / slotLen % bulkSlots)
	start := now - now%slotLen
	if bc.slotAt[i] != start {
		bc.slotAt[i], bc.withheld[i] = start, 0
	}
	bc.withheld[i] += n
	total := 0
	for j := range bulkSlots {
		if now-bc.slotAt[j] < int64(r.Window) {
			total += bc.withheld[j]
		}
	}
	if total > r.MaxWithheld {
		return &bulkCrossing{kind: AlertKindBulkWithheld, count: total, threshold: r.MaxWithheld}
	}
	return nil
}

func (bc *bulkCaller) reset() {
	clear(bc.patients)
	bc.withheld = [bulkSlots]int{}
}

// Alert is a security alert awaiting an auditor: who, what crossed which
// threshold, and whether the caller is blocked until it is cleared. It
// names no patient.
type Alert struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	Status    string     `json:"status"` // open | cleared
	Caller    string     `json:"caller"` // the key blocks apply to: sub:<subject> or client:<client>
	Subject   string     `json:"subject"`
	Org       string     `json:"org"`
	Client    string     `json:"client"`
	Count     int        `json:"count"`
	Threshold int        `json:"threshold"`
	Window    string     `json:"window"`
	RequestID string     `json:"request_id"`
	RaisedAt  time.Time  `json:"raised_at"`
	Blocking  bool       `json:"blocking"`
	ClearedAt *time.Time `json:"cleared_at,omitempty"`
	ClearedBy string     `json:"cleared_by,omitempty"`

	logSubject string // what the log line and events of its raising name (logSubject); not stored
	// withheldOnly: the request that raised it disclosed nothing, so its
	// answer does not wait for the alert (raiseAlert); not stored.
	withheldOnly bool
}

// Alert statuses.
const (
	AlertOpen    = "open"
	AlertCleared = "cleared"
)

// AlertStore keeps alerts across restarts; *BoltAlerts is one.
type AlertStore interface {
	PutAlert(ctx context.Context, a Alert) error
	GetAlert(ctx context.Context, id string) (Alert, bool, error)
	// Alerts lists alerts, open ones only unless all, newest first.
	Alerts(ctx context.Context, all bool) ([]Alert, error)
}

var bulkAlerts, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.bulk_access.alerts",
	metric.WithDescription("bulk-access alerts raised, by kind and whether the caller was blocked"))

// bulkCheck counts the entries of a request about to be recorded; on a
// crossing it returns the alert whose id flags the entries. raiseAlert
// makes it known once the entries are committed.
func (s *Server) bulkCheck(ex *exchange, entries []audit.Entry) *Alert {
	if s.bulk == nil || len(entries) == 0 {
		return nil
	}
	x := s.bulk.observe(ex.caller, entries)
	if x == nil {
		return nil
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	withheldOnly := true
	for _, e := range entries {
		if len(e.Disclosed) > 0 || len(e.Redacted) > 0 {
			withheldOnly = false
			break
		}
	}
	return &Alert{withheldOnly: withheldOnly,
		ID: bulkAlertIDPrefix + hex.EncodeToString(id), Kind: x.kind, Status: AlertOpen,
		Caller: bulkKey(ex.caller), Subject: ex.caller.Subject, Org: ex.caller.Org, Client: ex.caller.Client, logSubject: logSubject(ex.caller),
		Count: x.count, Threshold: x.threshold, Window: s.bulk.rules.Window.String(),
		RequestID: ex.requestID, RaisedAt: time.Now().UTC(), Blocking: s.bulk.rules.Block,
	}
}

// raiseAlert blocks the caller when configured, stores the alert and
// raises the metric, the log line (no patient) and the security event.
// For a request that disclosed nothing the store and the events are
// written behind its answer, as its ledger entries are (record.go
// recordWithheld; Server.Flush waits for both): a withheld resource
// answers as fast as a missing one, and the 404 of the read that crossed a
// threshold came an fsynced store write and event later, which told a
// caller reading one id again and again that it was withheld, not absent
// (a missing one counts nothing). The block takes effect at once.
func (s *Server) raiseAlert(ctx context.Context, a *Alert) {
	if a == nil {
		return
	}
	if a.Blocking {
		s.block(a.Caller, a.ID)
	}
	if a.withheldOnly {
		s.withheldWrites.RLock()
		go func() {
			defer s.withheldWrites.RUnlock()
			s.announceAlert(context.WithoutCancel(ctx), a)
		}()
		return
	}
	s.announceAlert(ctx, a)
}

// announceAlert stores a and raises its metric, log line and events.
func (s *Server) announceAlert(ctx context.Context, a *Alert) {
	if s.alerts != nil {
		if err := s.alerts.PutAlert(ctx, *a); err != nil {
			// Kept in memory, listed and clearable as a stored one is: a
			// block naming an alert no one can find or clear held until
			// a restart, which then dropped it.
			s.log.Error("bulk-access alert could not be stored; it is kept in memory until cleared and lost at a restart",
				"alert_id", a.ID, "error", err.Error())
			s.blocked.mu.Lock()
			if s.blocked.unstored == nil {
				s.blocked.unstored = map[string]Alert{}
			}
			s.blocked.unstored[a.ID] = *a
			s.blocked.mu.Unlock()
		}
	}
	bulkAlerts.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", a.Kind), attribute.Bool("blocked", a.Blocking)))
	reason := bulkReasonPatients
	if a.Kind == AlertKindBulkWithheld {
		reason = bulkReasonWithheldText
	}
	s.log.Warn("bulk-access alert", "alert_id", a.ID, "kind", a.Kind, "request_id", a.RequestID,
		"caller_subject", a.logSubject, "caller_org", a.Org, "caller_client", a.Client,
		"count", a.Count, "threshold", a.Threshold, "window", a.Window, "blocked", a.Blocking)
	s.emit(siem.Event{Kind: siem.KindBulkAlert, Severity: siem.SeverityAlert, RequestID: a.RequestID,
		Subject: a.logSubject, Org: a.Org, Client: a.Client, AlertID: a.ID, Reason: reason, Count: a.Count})
	if a.Blocking {
		s.emit(siem.Event{Kind: siem.KindCallerBlocked, Severity: siem.SeverityAlert, RequestID: a.RequestID,
			Subject: a.logSubject, Org: a.Org, Client: a.Client, AlertID: a.ID, Reason: "blocked until an auditor clears the alert"})
	}
}

// blockList is the callers refused until their alert is cleared.
type blockList struct {
	mu sync.RWMutex
	by map[string]string // caller key → alert id
	// unstored are the alerts the store refused (raiseAlert), by id.
	unstored map[string]Alert
}

// unstoredAlert returns the alert id the store refused, if any.
func (s *Server) unstoredAlert(id string) (Alert, bool) {
	s.blocked.mu.RLock()
	defer s.blocked.mu.RUnlock()
	a, ok := s.blocked.unstored[id]
	return a, ok
}

// alertList lists the stored alerts and those the store refused, open
// ones only unless all, newest first.
func (s *Server) alertList(ctx context.Context, all bool) ([]Alert, error) {
	list, err := s.alerts.Alerts(ctx, all)
	if err != nil {
		return nil, err
	}
	s.blocked.mu.RLock()
	for _, a := range s.blocked.unstored {
		if all || a.Status == AlertOpen {
			list = append(list, a)
		}
	}
	s.blocked.mu.RUnlock()
	sort.SliceStable(list, func(i, j int) bool { return list[i].RaisedAt.After(list[j].RaisedAt) })
	return list, nil
}

func (s *Server) block(caller, alertID string) {
	s.blocked.mu.Lock()
	s.blocked.by[caller] = alertID
	s.blocked.mu.Unlock()
}

func (s *Server) blockedBy(caller string) (string, bool) {
	s.blocked.mu.RLock()
	defer s.blocked.mu.RUnlock()
	id, ok := s.blocked.by[caller]
	return id, ok
}

// loadBlocks restores the blocks of open blocking alerts at start.
func (s *Server) loadBlocks(ctx context.Context) error {
	s.blocked.by = map[string]string{}
	if s.alerts == nil {
		return nil
	}
	open, err := s.alerts.Alerts(ctx, false)
	if err != nil {
		return fmt.Errorf("loading open alerts: %w", err)
	}
	for _, a := range open { // newest first: a block names its newest alert
		if _, held := s.blocked.by[a.Caller]; a.Blocking && !held {
			s.blocked.by[a.Caller] = a.ID
		}
	}
	return nil
}

// protect sets up the protections of p and restores the blocks of open
// alerts.
func (s *Server) protect(p Protection, deps Deps) error {
	s.events, s.alerts = deps.Events, deps.Alerts
	if p.RateLimits.Enabled {
		s.limits = newLimiter(p.RateLimits)
	}
	if p.Bulk.Enabled {
		s.bulk = newBulkDetector(p.Bulk)
	}
	return s.loadBlocks(context.Background())
}

// ProtectionErrors reports every problem with o.Protection (for the
// configuration's Validate).
func (o Options) ProtectionErrors() []error { return o.Protection.validate() }

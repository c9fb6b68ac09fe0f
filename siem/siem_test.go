package siem

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

func openDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func entry(i int, patient string) audit.Entry {
	return audit.Entry{
		RequestID: fmt.Sprintf("req-%d", i), Caller: audit.Party{Subject: "Practitioner/dr1", Org: "Organization/o"},
		Patient: patient, Interaction: "read", Query: "Patient/" + strings.TrimPrefix(patient, "Patient/"),
		Disclosed: []audit.Item{{Type: "Patient", ID: strings.TrimPrefix(patient, "Patient/"), Version: "1"}},
	}
}

// memSink keeps what it was given; failAfterWrite makes Write keep the
// batch and then fail, as a crash after the write and before the ack.
type memSink struct {
	lines          []string
	failAfterWrite bool
}

func (m *memSink) Write(recs []Record) error {
	for _, r := range recs {
		m.lines = append(m.lines, string(r.JSON))
	}
	if m.failAfterWrite {
		return errors.New("sink down")
	}
	return nil
}

func (m *memSink) Close() error { return nil }

type line struct {
	Stream string      `json:"stream"`
	Seq    uint64      `json:"seq"`
	Entry  audit.Entry `json:"entry"`
	Event  Event       `json:"event"`
}

func parse(t *testing.T, lines []string) []line {
	t.Helper()
	out := make([]line, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &out[i]); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
	}
	return out
}

func setup(t *testing.T, sink Sink, cfg Config) (*Queue, *audit.Ledger, *Exporter) {
	t.Helper()
	db := openDB(t)
	q, err := OpenQueue(db)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Ledger, cfg.Sinks = l, []Sink{sink}
	x, err := NewExporter(q, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q, l, x
}

// TestExportResumesAndRepeatsOnlyTheUnackedBatch delivers both streams,
// fails one batch after the sink kept it, and shows the retry repeats
// exactly that batch and the queue is pruned once acknowledged.
func TestExportResumesAndRepeatsOnlyTheUnackedBatch(t *testing.T) {
	t.Parallel()
	sink := &memSink{}
	q, l, x := setup(t, sink, Config{Batch: 2})
	ctx := t.Context()
	if err := l.Append(ctx, entry(1, "Patient/a"), entry(2, "Patient/b"), entry(3, "Patient/c")); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{KindTokenRefused, KindRateLimited} {
		if err := q.Emit(Event{Kind: k, Severity: SeverityWarning, Subject: "u1"}); err != nil {
			t.Fatal(err)
		}
	}
	if more, err := x.Round(ctx); err != nil || !more {
		t.Fatalf("first round: more=%v err=%v, want a full batch", more, err)
	}
	sink.failAfterWrite = true
	if _, err := x.Round(ctx); err == nil {
		t.Fatal("a failing sink must fail the round")
	}
	sink.failAfterWrite = false
	if _, err := x.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if more, err := x.Round(ctx); err != nil || more {
		t.Fatalf("idle round: more=%v err=%v", more, err)
	}
	got := parse(t, sink.lines)
	seen := map[string]int{}
	for _, l := range got {
		seen[fmt.Sprintf("%s:%d", l.Stream, l.Seq)]++
	}
	want := []string{"ledger:1", "ledger:2", "ledger:3", "security:1", "security:2"}
	for _, k := range want {
		if seen[k] == 0 {
			t.Errorf("%s never delivered; got %v", k, seen)
		}
	}
	if seen["ledger:3"] != 2 || seen["ledger:1"] != 1 || seen["security:1"] != 1 {
		t.Errorf("deliveries = %v; only the failed batch (ledger 3) may repeat, once", seen)
	}
	if n, err := q.Pending(); err != nil || n != 0 {
		t.Errorf("pending events after the ack = %d, %v; want 0", n, err)
	}
	if c, _ := q.Cursor(); c != (Cursor{Ledger: 3, Events: 2}) {
		t.Errorf("cursor = %+v", c)
	}
	// An event after a restart keeps counting: seqs never reuse a pruned one.
	q2, err := OpenQueue(q.db)
	if err != nil {
		t.Fatal(err)
	}
	if err := q2.Emit(Event{Kind: KindPolicyLoaded, Severity: SeverityInfo}); err != nil {
		t.Fatal(err)
	}
	evs, err := q2.after(2, 10)
	if err != nil || len(evs) != 1 || evs[0].Seq != 3 {
		t.Fatalf("event after prune = %+v, %v; want seq 3", evs, err)
	}
}

// TestHashedPatientIDs shows that with patient_ids hash no patient id,
// query or resource id of the ledger reaches the sink, and equal ids hash
// equally.
func TestHashedPatientIDs(t *testing.T) {
	t.Parallel()
	sink := &memSink{}
	_, l, x := setup(t, sink, Config{PatientIDs: PatientIDsHash, HashKey: []byte(strings.Repeat("k", 32))})
	if err := l.Append(t.Context(), entry(1, "Patient/secret-42"), entry(2, "Patient/secret-42")); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Round(t.Context()); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(sink.lines, "\n")
	if strings.Contains(all, "secret-42") {
		t.Fatalf("a patient id reached the SIEM in hash mode: %s", all)
	}
	got := parse(t, sink.lines)
	if len(got) != 2 || !strings.HasPrefix(got[0].Entry.Patient, "hmac-sha256:") || got[0].Entry.Patient != got[1].Entry.Patient {
		t.Fatalf("patients = %q, %q; want equal HMACs", got[0].Entry.Patient, got[1].Entry.Patient)
	}
	if _, err := NewExporter(x.q, Config{Sinks: []Sink{sink}, PatientIDs: PatientIDsHash}); err == nil {
		t.Fatal("hash mode without a key must be refused")
	}
}

// TestFileSinkReopensAfterRotation moves the file away between batches:
// the next batch goes to a new file at the path.
func TestFileSinkReopensAfterRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "siem.jsonl")
	s, err := NewFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write([]Record{{JSON: []byte(`{"n":1}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]Record{{JSON: []byte(`{"n":2}`)}}); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if string(old) != "{\"n\":1}\n" || string(cur) != "{\"n\":2}\n" {
		t.Fatalf("rotated = %q, new = %q", old, cur)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
}

// TestSyslogTCPFraming reads RFC 5424 messages with octet counting.
func TestSyslogTCPFraming(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var msgs []string
		for range 2 {
			var n int
			if _, err := fmt.Fscanf(r, "%d ", &n); err != nil {
				break
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(r, buf); err != nil {
				break
			}
			msgs = append(msgs, string(buf))
		}
		got <- msgs
	}()
	s, err := NewSyslogSink("tcp", ln.Addr().String(), "authpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	recs := []Record{
		{Stream: StreamSecurity, Seq: 1, Time: at, Kind: KindTokenRefused, Severity: SeverityWarning, JSON: []byte(`{"a":1}`)},
		{Stream: StreamLedger, Seq: 7, Time: at, Kind: "disclosure", Severity: SeverityInfo, JSON: []byte(`{"b":2}`)},
	}
	if err := s.Write(recs); err != nil {
		t.Fatal(err)
	}
	msgs := <-got
	if len(msgs) != 2 {
		t.Fatalf("messages = %q", msgs)
	}
	// authpriv (10) * 8 + warning (4) = 84
	if !strings.HasPrefix(msgs[0], "<84>1 2026-12-02T20:00:00.000000Z ") || !strings.Contains(msgs[0], " ds4p ") ||
		!strings.HasSuffix(msgs[0], " security.token_refused - {\"a\":1}") {
		t.Errorf("message 1 = %q", msgs[0])
	}
	if !strings.HasPrefix(msgs[1], "<86>1 ") || !strings.HasSuffix(msgs[1], " ledger.disclosure - {\"b\":2}") {
		t.Errorf("message 2 = %q", msgs[1])
	}
	if _, err := NewSyslogSink("sctp", "x", "authpriv"); err == nil {
		t.Error("an unknown network must be refused")
	}
}

// TestQueueBoundedWithoutGaps: beyond MaxQueued undelivered events Emit
// drops with ErrQueueFull, and once the export acknowledges, events are
// taken again with the next seq (no gap for the SIEM to mistake for loss).
func TestQueueBoundedWithoutGaps(t *testing.T) {
	t.Parallel()
	sink := &memSink{}
	q, _, x := setup(t, sink, Config{})
	q.MaxQueued = 2
	for i := range 3 {
		err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning})
		if (i < 2) != (err == nil) || (i == 2 && !errors.Is(err, ErrQueueFull)) {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
	if _, err := x.Round(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning}); err != nil {
		t.Fatalf("after the ack: %v", err)
	}
	// The drop is told (events_dropped, seq 3) ahead of the event (seq 4).
	evs, err := q.after(2, 10)
	if err != nil || len(evs) != 2 || evs[0].Seq != 3 || evs[0].Kind != KindEventsDropped || evs[1].Seq != 4 {
		t.Fatalf("next events = %+v, %v; want the drop's notice at seq 3, the event at 4", evs, err)
	}
}

// TestSyslogSinkStartsWithTheCollectorDown: a collector that is down when
// the sink is made is reported (ErrSinkUnreachable) but the sink is usable:
// writes fail until the collector is back, then deliver.
func TestSyslogSinkStartsWithTheCollectorDown(t *testing.T) {
	t.Parallel()
	// A Unix socket path: nothing listens on it until the test says so.
	addr := filepath.Join(t.TempDir(), "syslog.sock")
	s, err := NewSyslogSink("unix", addr, "authpriv")
	if !errors.Is(err, ErrSinkUnreachable) || s == nil {
		t.Fatalf("NewSyslogSink with the collector down: %v, %v", s, err)
	}
	defer s.Close()
	rec := []Record{{Stream: StreamSecurity, Seq: 1, Time: time.Now(), Kind: KindTokenRefused, Severity: SeverityWarning, JSON: []byte(`{"a":1}`)}}
	if err := s.Write(rec); err == nil {
		t.Fatal("a write with the collector down succeeded")
	}
	ln, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- ""
			return
		}
		defer c.Close()
		b := make([]byte, 4096)
		n, _ := c.Read(b)
		got <- string(b[:n])
	}()
	if err := s.Write(rec); err != nil {
		t.Fatalf("a write once the collector is back: %v", err)
	}
	if msg := <-got; !strings.Contains(msg, "security.token_refused") {
		t.Fatalf("the collector received %q", msg)
	}
}

// TestConsentEventMasked: a consent_changed event carries its actor, action,
// consent id and version as they are with patient_ids plain; with hash the
// consent id becomes the same HMAC as the ledger's reference to that
// consent (so the two still correlate), with omit it is dropped, and the
// actor stays.
func TestConsentEventMasked(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{PatientIDsPlain, PatientIDsHash, PatientIDsOmit} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			sink := &memSink{}
			q, l, x := setup(t, sink, Config{PatientIDs: mode, HashKey: []byte(strings.Repeat("k", 32))})
			e := entry(1, "Patient/a")
			e.Consents = []audit.ConsentRef{{ID: "consent-secret-7", Version: "2"}}
			if err := l.Append(t.Context(), e); err != nil {
				t.Fatal(err)
			}
			if err := q.Emit(Event{Kind: KindConsentChanged, Severity: SeverityNotice, Subject: "cm-alice", Client: "console",
				Action: ConsentUpdated, Consent: "consent-secret-7", ConsentVersion: "2"}); err != nil {
				t.Fatal(err)
			}
			if _, err := x.Round(t.Context()); err != nil {
				t.Fatal(err)
			}
			got := parse(t, sink.lines)
			if len(got) != 2 {
				t.Fatalf("lines: %v", sink.lines)
			}
			ledgerRef, ev := got[0].Entry.Consents[0], got[1].Event
			if ev.Kind != KindConsentChanged || ev.Subject != "cm-alice" || ev.Client != "console" || ev.Action != ConsentUpdated ||
				ev.ConsentVersion != "2" || ledgerRef.Version != "2" {
				t.Fatalf("event = %+v, ledger ref = %+v", ev, ledgerRef)
			}
			switch mode {
			case PatientIDsPlain:
				if ev.Consent != "consent-secret-7" || ledgerRef.ID != "consent-secret-7" {
					t.Fatalf("plain: event %q, ledger %q", ev.Consent, ledgerRef.ID)
				}
			case PatientIDsHash:
				if !strings.HasPrefix(ev.Consent, "hmac-sha256:") || ev.Consent != ledgerRef.ID {
					t.Fatalf("hash: event %q, ledger %q; want the same HMAC", ev.Consent, ledgerRef.ID)
				}
			case PatientIDsOmit:
				if ev.Consent != "" || ledgerRef.ID != "" {
					t.Fatalf("omit: event %q, ledger %q", ev.Consent, ledgerRef.ID)
				}
			}
			if mode != PatientIDsPlain && strings.Contains(strings.Join(sink.lines, "\n"), "secret-7") {
				t.Fatalf("the consent id reached the SIEM in %s mode: %v", mode, sink.lines)
			}
		})
	}
}

package siem

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
)

// searchEntry is the ledger entry of a 1,000-entry searchset: >100 KB of
// JSON, more than a UDP datagram can carry.
func searchEntry(n int) audit.Entry {
	e := audit.Entry{RequestID: "r-search", Caller: audit.Party{Subject: "Practitioner/dr1"}, Patient: "Patient/a",
		Interaction: "search", Query: "Observation?patient=a"}
	for i := range n {
		e.Disclosed = append(e.Disclosed, audit.Item{Type: "Observation", ID: fmt.Sprintf("obs-%d", i), Version: "1",
			Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N"}})
	}
	return e
}

// readDatagrams reads n datagrams from pc.
func readDatagrams(t *testing.T, pc net.PacketConn, n int) []string {
	t.Helper()
	var out []string
	buf := make([]byte, 1<<17)
	for range n {
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d of %d: %v", len(out)+1, n, err)
		}
		out = append(out, string(buf[:k]))
	}
	return out
}

// msgJSON is the JSON line of an RFC 5424 message as the sink writes it
// (after the "- " that stands for no structured data).
func msgJSON(t *testing.T, msg string) map[string]any {
	t.Helper()
	_, js, ok := strings.Cut(msg, " - ")
	if !ok {
		t.Fatalf("not a message of the sink: %q", msg)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	return m
}

// TestSyslogUDPOversizedRecordGoesAsStub (QA17 F2): a ledger entry larger
// than a datagram can be used to fail the batch, and the exporter retried
// it forever, so no security event behind it was ever delivered. It is now
// sent as a stub within MaxDatagram that still correlates (seq, chain hash,
// the full line's SHA-256, counts), and the event behind it follows.
func TestSyslogUDPOversizedRecordGoesAsStub(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:18200")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sink, err := NewSyslogSink("udp", pc.LocalAddr().String(), "authpriv")
	if err != nil {
		t.Fatal(err)
	}
	q, l, x := setup(t, sink, Config{})
	ctx := t.Context()
	if err := l.Append(ctx, searchEntry(1000)); err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(Event{Kind: KindTokenRefused, Severity: SeverityWarning, Reason: "expired"}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Round(ctx); err != nil {
		t.Fatalf("the round failed on an oversized record: %v", err)
	}
	msgs := readDatagrams(t, pc, 2)
	if len(msgs[0]) > DefaultMaxDatagram {
		t.Errorf("stub of %d bytes, over %d", len(msgs[0]), DefaultMaxDatagram)
	}
	entries, err := l.EntriesAfter(ctx, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	full, err := x.mask.ledgerRecord(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(full.JSON)
	m := msgJSON(t, msgs[0])
	e, _ := m["entry"].(map[string]any)
	counts, _ := e["counts"].(map[string]any)
	if m["stream"] != StreamLedger || m["seq"] != float64(1) || m["truncated"] != true || m["bytes"] != float64(len(full.JSON)) ||
		m["sha256"] != hex.EncodeToString(sum[:]) || e["hash"] != entries[0].Hash || e["request_id"] != "r-search" ||
		counts["disclosed"] != float64(1000) || e["disclosed"] != nil {
		t.Errorf("stub does not correlate with the full record: %s", msgs[0])
	}
	if !strings.Contains(msgs[0], " ledger.disclosure - ") {
		t.Errorf("stub message id: %q", msgs[0])
	}
	if ev := msgJSON(t, msgs[1]); ev["stream"] != StreamSecurity || ev["event"].(map[string]any)["kind"] != KindTokenRefused {
		t.Errorf("the event behind the large entry: %s", msgs[1])
	}
	if c, _ := q.Cursor(); c != (Cursor{Ledger: 1, Events: 1}) {
		t.Errorf("cursor = %+v, want both streams acknowledged", c)
	}
}

// TestSyslogUnixgramStubLevels: over a unix datagram socket with a small
// MaxDatagram, a record is cut down to the largest stub that fits: without
// its lists, then to its identifiers, then bare.
func TestSyslogUnixgramStubLevels(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log.sock")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sink, err := NewSyslogSink("unix", path, "authpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.MaxDatagram = 600
	m := masker{}
	small, _ := m.ledgerRecord(entry(1, "Patient/a"))
	big, _ := m.ledgerRecord(searchEntry(50))
	longQuery := searchEntry(50)
	longQuery.Query = "Observation?code=" + strings.Repeat("x", 700)
	huge, _ := m.ledgerRecord(longQuery)
	bareRec := Record{Stream: StreamSecurity, Seq: 9, Kind: KindTokenRefused, JSON: []byte(`{"stream":"security","seq":9,"event":{"kind":"` + strings.Repeat("k", 900) + `"}}`)}
	if err := sink.Write([]Record{small, big, huge, bareRec}); err != nil {
		t.Fatal(err)
	}
	msgs := readDatagrams(t, pc, 4)
	for i, msg := range msgs {
		if len(msg) > 600 {
			t.Errorf("message %d: %d bytes, over 600", i, len(msg))
		}
	}
	if strings.Contains(msgs[0], "truncated") || !strings.HasSuffix(msgs[0], string(small.JSON)) {
		t.Errorf("a record that fits goes whole: %s", msgs[0])
	}
	if e := msgJSON(t, msgs[1])["entry"].(map[string]any); e["query"] != "Observation?patient=a" || e["counts"].(map[string]any)["disclosed"] != float64(50) {
		t.Errorf("stub without the lists: %s", msgs[1])
	}
	if e := msgJSON(t, msgs[2])["entry"].(map[string]any); e["query"] != nil || e["hash"] == nil || e["seq"] == nil {
		t.Errorf("minimal stub: %s", msgs[2])
	}
	if b := msgJSON(t, msgs[3]); b["event"] != nil || b["kind"] != KindTokenRefused || b["seq"] != float64(9) || b["truncated"] != true {
		t.Errorf("bare stub: %s", msgs[3])
	}
}

// failingSink fails its first fails writes without keeping anything.
type failingSink struct {
	memSink
	fails int
}

func (f *failingSink) Write(recs []Record) error {
	if f.fails > 0 {
		f.fails--
		return errors.New("collector down")
	}
	return f.memSink.Write(recs)
}

// TestRetryDoesNotRepeatToEarlierSinks (QA17 F2): a file sink before a
// failing syslog sink re-received the batch on each retry; each sink now
// gets only what it has not taken.
func TestRetryDoesNotRepeatToEarlierSinks(t *testing.T) {
	t.Parallel()
	first, second := &memSink{}, &failingSink{fails: 3}
	q, l, x := setup(t, first, Config{})
	x.cfg.Sinks = append(x.cfg.Sinks, second)
	x.sent = make([]Cursor, 2)
	ctx := t.Context()
	if err := l.Append(ctx, entry(1, "Patient/a"), entry(2, "Patient/b")); err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(Event{Kind: KindBreakGlass, Severity: SeverityWarning}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := x.Round(ctx); err == nil {
			t.Fatal("the round must fail while the second sink is down")
		}
	}
	if err := l.Append(ctx, entry(3, "Patient/c")); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Round(ctx); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*memSink{"first": first, "second": &second.memSink} {
		seen := map[string]int{}
		for _, l := range parse(t, s.lines) {
			seen[fmt.Sprintf("%s:%d", l.Stream, l.Seq)]++
		}
		want := map[string]int{"ledger:1": 1, "ledger:2": 1, "ledger:3": 1, "security:1": 1}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("%s sink got %v, want each record once: %v", name, seen, want)
		}
	}
	if c, _ := q.Cursor(); c != (Cursor{Ledger: 3, Events: 1}) {
		t.Errorf("cursor = %+v", c)
	}
}

// rejectingSink rejects for good every record whose JSON holds bad.
type rejectingSink struct {
	memSink
	bad string
}

func (r *rejectingSink) Write(recs []Record) error {
	for i, rec := range recs {
		if strings.Contains(string(rec.JSON), r.bad) {
			if err := r.memSink.Write(recs[:i]); err != nil {
				return err
			}
			return &RejectedError{Index: i, Err: errors.New("too long for good")}
		}
	}
	return r.memSink.Write(recs)
}

// TestRejectedRecordIsSkipped (QA17 F2): a record a sink can never accept
// is logged (without its content) and skipped; the records after it are
// delivered and the cursor moves on.
func TestRejectedRecordIsSkipped(t *testing.T) {
	t.Parallel()
	sink := &rejectingSink{bad: "Patient/poison"}
	var logs bytes.Buffer
	q, l, x := setup(t, sink, Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ctx := t.Context()
	if err := l.Append(ctx, entry(1, "Patient/a"), entry(2, "Patient/poison"), entry(3, "Patient/c")); err != nil {
		t.Fatal(err)
	}
	if err := q.Emit(Event{Kind: KindBulkAlert, Severity: SeverityAlert}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Round(ctx); err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, l := range parse(t, sink.lines) {
		seqs = append(seqs, fmt.Sprintf("%s:%d", l.Stream, l.Seq))
	}
	if fmt.Sprint(seqs) != "[ledger:1 ledger:3 security:1]" {
		t.Errorf("delivered %v, want all but the rejected ledger:2", seqs)
	}
	if c, _ := q.Cursor(); c != (Cursor{Ledger: 3, Events: 1}) {
		t.Errorf("cursor = %+v", c)
	}
	if !strings.Contains(logs.String(), `"seq":2`) || !strings.Contains(logs.String(), "siem record skipped") || strings.Contains(logs.String(), "poison") {
		t.Errorf("log of the skipped record (its seq, never its content): %s", logs.String())
	}
}

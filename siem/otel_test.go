package siem

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	"go.opentelemetry.io/otel/log/global"
)

// recLogs is a LoggerProvider that keeps what is emitted.
type recLogs struct {
	embedded.LoggerProvider
	mu   sync.Mutex
	recs []log.Record
}

type recLogger struct {
	embedded.Logger
	p *recLogs
}

func (p *recLogs) Logger(string, ...log.LoggerOption) log.Logger { return recLogger{p: p} }

func (l recLogger) Emit(_ context.Context, r log.Record) {
	l.p.mu.Lock()
	l.p.recs = append(l.p.recs, r.Clone())
	l.p.mu.Unlock()
}

func (l recLogger) Enabled(context.Context, log.EnabledParameters) bool { return true }

// TestOTelSinkEmitsThroughTheGlobalProvider: each record becomes one OTel
// log record with an event name, severity and the JSON line as its body.
// Not parallel: it installs the global LoggerProvider.
func TestOTelSinkEmitsThroughTheGlobalProvider(t *testing.T) {
	prev := global.GetLoggerProvider()
	rec := &recLogs{}
	global.SetLoggerProvider(rec)
	t.Cleanup(func() { global.SetLoggerProvider(prev) })
	s := NewOTelSink()
	at := time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC)
	err := s.Write([]Record{
		{Stream: StreamSecurity, Seq: 4, Time: at, Kind: KindBulkAlert, Severity: SeverityAlert, JSON: []byte(`{"x":1}`)},
		{Stream: StreamLedger, Seq: 9, Time: at, Kind: "disclosure", Severity: SeverityInfo, JSON: []byte(`{"y":2}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.recs) != 2 {
		t.Fatalf("%d records, want 2", len(rec.recs))
	}
	r := rec.recs[0]
	if r.EventName() != "ds4p.security.bulk_alert" || r.Severity() != log.SeverityError || r.Body().AsString() != `{"x":1}` || !r.Timestamp().Equal(at) {
		t.Errorf("record = %s %v %q %v", r.EventName(), r.Severity(), r.Body().AsString(), r.Timestamp())
	}
	if rec.recs[1].EventName() != "ds4p.ledger.disclosure" || rec.recs[1].Severity() != log.SeverityInfo {
		t.Errorf("ledger record = %s %v", rec.recs[1].EventName(), rec.recs[1].Severity())
	}
}

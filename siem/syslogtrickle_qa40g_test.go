package siem

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// trickleConn is a collector that takes 4 KiB a second of its own clock
// (no real waiting): a write is cut where the deadline last set falls, as
// a real connection's is, returning what went before it.
type trickleConn struct {
	slowConn
	got bytes.Buffer
}

const trickleRate = 4 << 10 // bytes per second

func (c *trickleConn) Write(b []byte) (int, error) {
	need := time.Duration(len(b)) * time.Second / trickleRate
	if c.now+need <= c.deadline {
		c.now += need
		c.got.Write(b)
		return len(b), nil
	}
	n := 0
	if c.deadline > c.now {
		n = int((c.deadline - c.now) * trickleRate / time.Second)
	}
	c.now = max(c.now, c.deadline)
	c.got.Write(b[:n])
	return n, os.ErrDeadlineExceeded
}

// TestSyslogTrickleWithinRecordQA40G (QA round 40, helper G, on 3873374):
// the write deadline moved from the batch to each record, but a record
// still had 10 s to go whole: a search's ledger entry over 100 KB to a
// collector over a link giving the sink 4 KiB/s (25 s) failed part way at
// every retry, for good, so the exporter never got past it, although the
// collector was taking bytes all along. A collector that takes nothing
// for 10 s is down; one that keeps taking bytes is not.
func TestSyslogTrickleWithinRecordQA40G(t *testing.T) {
	t.Parallel()
	c := &trickleConn{}
	s := &SyslogSink{network: "tcp", addr: "127.0.0.1:1", facility: Facilities["authpriv"], host: "h", app: "ds4p",
		conn: c, stream: true}
	big := `{"stream":"ledger","seq":1,"query":"` + strings.Repeat("x", 100<<10) + `"}`
	rec := Record{Stream: StreamLedger, Seq: 1, Time: time.Now(), Kind: "disclosure", Severity: SeverityInfo, JSON: []byte(big)}
	if err := s.Write([]Record{rec}); err != nil {
		t.Errorf("a collector taking 4 KiB/s failed a 100 KiB record: %v", err)
	}
	if !bytes.HasSuffix(c.got.Bytes(), []byte(big)) {
		t.Errorf("the collector got %d bytes, not the whole record", c.got.Len())
	}

	// Still down: a collector that takes nothing.
	stuck := &slowConn{}
	s = &SyslogSink{network: "tcp", addr: "127.0.0.1:1", facility: Facilities["authpriv"], host: "h", app: "ds4p",
		conn: &stuckConn{slowConn: stuck}, stream: true}
	if err := s.Write([]Record{rec}); err == nil {
		t.Error("a collector that takes nothing did not fail the write")
	}
}

// stuckConn takes nothing: every write runs into its deadline.
type stuckConn struct{ *slowConn }

func (c *stuckConn) Write([]byte) (int, error) { return 0, os.ErrDeadlineExceeded }

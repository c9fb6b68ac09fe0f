package siem

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// slowConn is a collector that takes every record, each in 3 seconds of
// its own clock (no real waiting): a write past the deadline last set, on
// that clock, times out as a real connection's would.
type slowConn struct {
	net.Conn
	now, deadline time.Duration // on the connection's clock
	took          int
}

func (c *slowConn) SetWriteDeadline(t time.Time) error {
	c.deadline = c.now + time.Until(t)
	return nil
}

func (c *slowConn) Write(b []byte) (int, error) {
	c.now += 3 * time.Second
	if c.now > c.deadline {
		return 0, os.ErrDeadlineExceeded
	}
	c.took++
	return len(b), nil
}

func (c *slowConn) Close() error { return nil }

// TestSyslogSlowCollectorProgressesQA40C (QA round 40, area C): the TCP
// syslog sink gave a whole batch (up to 500 ledger entries and 500
// events, a search's entry over 100 KB) one 10-second write deadline, so
// a collector that takes every record but needs longer than that for the
// batch (a remote SIEM over a slow link) failed every batch part way: the
// exporter sent the same first records again at each retry, for good, and
// never got past them. The deadline now bounds each record.
func TestSyslogSlowCollectorProgressesQA40C(t *testing.T) {
	t.Parallel()
	c := &slowConn{}
	s := &SyslogSink{network: "tcp", addr: "127.0.0.1:1", facility: Facilities["authpriv"], host: "h", app: "ds4p",
		conn: c, stream: true}
	recs := make([]Record, 40)
	for i := range recs {
		recs[i] = Record{Stream: StreamLedger, Seq: uint64(i + 1), Time: time.Now(), Kind: "disclosure", Severity: SeverityInfo,
			JSON: []byte(fmt.Sprintf(`{"stream":"ledger","seq":%d}`, i+1))}
	}
	if err := s.Write(recs); err != nil {
		t.Errorf("a collector taking each record in 3 s failed the batch: %v", err)
	}
	if c.took != len(recs) {
		t.Errorf("the collector took %d of %d records", c.took, len(recs))
	}
}

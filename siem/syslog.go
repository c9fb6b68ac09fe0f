package siem

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Facilities the syslog sink accepts, by name.
var Facilities = map[string]int{
	"auth": 4, "authpriv": 10, "daemon": 3, "audit": 13,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// syslogSeverity maps event severities to RFC 5424 severities.
var syslogSeverity = map[string]int{SeverityInfo: 6, SeverityNotice: 5, SeverityWarning: 4, SeverityAlert: 1}

// SyslogSink sends each record as one RFC 5424 message whose MSG is the
// JSON line: over UDP (one datagram each), TCP (octet-counting framing,
// RFC 6587) or a unix socket (datagram, else stream). A failed write drops
// the connection; the next batch dials again.
//
// Over a datagram transport (UDP, a unix datagram socket) a message is at
// most MaxDatagram bytes: a record whose message would be longer (a
// search's ledger entry names a thousand items, >100 KB) is sent as its
// stub (the entry without its item lists but with their counts, and the
// full line's length and SHA-256, "truncated": true), which the SIEM matches to
// the full record in the file or TCP sink, or in the ledger, by stream and
// seq. A datagram the transport refuses as too long even so (EMSGSIZE: a
// path MTU below MaxDatagram) is sent as the smallest stub, and if that is
// refused too the sink reports a RejectedError so that the exporter skips
// it: one record never stops the stream.
type SyslogSink struct {
	network, addr string
	facility      int
	host, app     string
	// MaxDatagram bounds a message over a datagram transport
	// (DefaultMaxDatagram when 0; at least MinDatagram). Set it before the
	// first Write.
	MaxDatagram int
	mu          sync.Mutex
	conn        net.Conn
	stream      bool // octet-counting framing
}

// Bounds of SyslogSink.MaxDatagram. The default is rsyslog's and
// syslog-ng's usual maximum message size and well below UDP's 65,507-byte
// payload; RFC 5426 asks receivers to take at least 480 bytes over IPv4
// (MinDatagram) and advises keeping under the path MTU, so a collector
// across a network with a 1,500-byte MTU is better served by ~1,400 (IP
// fragments are dropped by many firewalls).
const (
	DefaultMaxDatagram = 8192
	MinDatagram        = 480
	MaxUDPDatagram     = 65507
)

// NewSyslogSink checks the network ("udp", "tcp" or "unix") and facility
// name and dials addr.
func NewSyslogSink(network, addr, facility string) (*SyslogSink, error) {
	f, ok := Facilities[facility]
	if !ok {
		return nil, fmt.Errorf("siem: unknown syslog facility %q", facility)
	}
	switch network {
	case "udp", "tcp", "unix":
	default:
		return nil, fmt.Errorf("siem: syslog network %q is not udp, tcp or unix", network)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "-"
	}
	s := &SyslogSink{network: network, addr: addr, facility: f, host: host, app: "ds4p"}
	if err := s.dial(); err != nil {
		// The sink is still returned: Write dials again, and the queue
		// keeps the events until it succeeds, so a collector outage
		// need not stop the proxy from starting.
		return s, fmt.Errorf("%w: %w", ErrSinkUnreachable, err)
	}
	return s, nil
}

// ErrSinkUnreachable says that a sink could not reach its collector yet;
// the sink returned with it is usable and retries on every write.
var ErrSinkUnreachable = errors.New("siem: the collector is not reachable yet")

func (s *SyslogSink) dial() error {
	var err error
	switch s.network {
	case "unix":
		if s.conn, err = net.DialTimeout("unixgram", s.addr, 5*time.Second); err == nil {
			s.stream = false
			return nil
		}
		s.conn, err = net.DialTimeout("unix", s.addr, 5*time.Second)
		s.stream = true
	default:
		s.conn, err = net.DialTimeout(s.network, s.addr, 5*time.Second)
		s.stream = s.network == "tcp"
	}
	if err != nil {
		return fmt.Errorf("siem: dialing syslog %s %s: %w", s.network, s.addr, err)
	}
	return nil
}

// Message renders r as an RFC 5424 message (without framing).
func (s *SyslogSink) Message(r Record) []byte {
	sev, ok := syslogSeverity[r.Severity]
	if !ok {
		sev = 6
	}
	var b bytes.Buffer
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(s.facility*8 + sev))
	b.WriteString(">1 ")
	b.WriteString(r.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	b.WriteByte(' ')
	b.WriteString(s.host)
	b.WriteByte(' ')
	b.WriteString(s.app)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(os.Getpid()))
	b.WriteByte(' ')
	b.WriteString(msgID(r))
	b.WriteString(" - ")
	b.Write(r.JSON)
	return b.Bytes()
}

// msgID is the record's kind, kept to the 32 printable characters RFC 5424
// allows.
func msgID(r Record) string {
	id := r.Stream + "." + r.Kind
	if len(id) > 32 {
		id = id[:32]
	}
	return id
}

// Write sends recs in order. Over a datagram transport a record too long
// for MaxDatagram goes as its stub; one the transport refuses even as the
// smallest stub ends the write with a RejectedError (the records before it
// were sent).
func (s *SyslogSink) Write(recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		if err := s.dial(); err != nil {
			return err
		}
	}
	for i, r := range recs {
		// Each record, not the batch, has 10 s: a collector that takes
		// nothing for that long is down, but a batch (up to 1,000 records,
		// a search's entry over 100 KB) may take a slow link longer, and
		// one failed part way is sent again from its start, so a deadline
		// on the batch never let a slow collector past it.
		_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		msg := s.Message(r)
		if s.stream {
			msg = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
		} else if max := s.maxDatagram(); len(msg) > max {
			msg = s.stubMessage(r, max, stubItems)
		}
		n, err := s.conn.Write(msg)
		for s.stream && n > 0 && n < len(msg) && errors.Is(err, os.ErrDeadlineExceeded) {
			// Cut by the deadline after taking part of the record: a
			// collector taking bytes within every 10 s is slow, not down,
			// and a record (a search's entry, over 100 KB) cut part way
			// would be sent again from the batch's start at every retry.
			msg = msg[n:]
			_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			n, err = s.conn.Write(msg)
		}
		if err != nil && !s.stream && errors.Is(err, syscall.EMSGSIZE) {
			// Not the connection's fault: the path takes less than
			// MaxDatagram. Try the smallest stub, else skip the record.
			if _, err = s.conn.Write(s.stubMessage(r, 0, stubBare)); errors.Is(err, syscall.EMSGSIZE) {
				return &RejectedError{Index: i, Err: fmt.Errorf("siem: syslog refused the datagram: %w", err)}
			}
		}
		if err != nil {
			_ = s.conn.Close()
			s.conn = nil
			return fmt.Errorf("siem: sending to syslog: %w", err)
		}
	}
	return nil
}

func (s *SyslogSink) maxDatagram() int {
	if s.MaxDatagram <= 0 {
		return DefaultMaxDatagram
	}
	return max(s.MaxDatagram, MinDatagram)
}

// stubMessage is the message of r's stub: the largest of its forms from
// level on that fits max bytes (0: the given level, whatever its size).
func (s *SyslogSink) stubMessage(r Record, max int, level stubLevel) []byte {
	for ; ; level++ {
		st := r
		st.JSON = stub(r, level)
		if msg := s.Message(st); max == 0 || len(msg) <= max || level == stubBare {
			return msg
		}
	}
}

// Close closes the connection.
func (s *SyslogSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

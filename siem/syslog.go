package siem

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
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
type SyslogSink struct {
	network, addr string
	facility      int
	host, app     string
	mu            sync.Mutex
	conn          net.Conn
	stream        bool // octet-counting framing
}

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

// Write sends recs in order.
func (s *SyslogSink) Write(recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		if err := s.dial(); err != nil {
			return err
		}
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for _, r := range recs {
		msg := s.Message(r)
		if s.stream {
			msg = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
		}
		if _, err := s.conn.Write(msg); err != nil {
			_ = s.conn.Close()
			s.conn = nil
			return fmt.Errorf("siem: sending to syslog: %w", err)
		}
	}
	return nil
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

package siem

import (
	"bytes"
	"fmt"
	"os"
	"sync"
)

// FileSink appends records as JSON lines to a file, fsynced per batch. It
// survives rotation: when the path no longer names the open file (moved
// or deleted by logrotate), the next batch reopens the path, creating it.
type FileSink struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// NewFileSink opens (creating, mode 0600) path for appending.
func NewFileSink(path string) (*FileSink, error) {
	s := &FileSink{path: path}
	if err := s.reopen(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileSink) reopen() error {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("siem: opening %s: %w", s.path, err)
	}
	s.f = f
	return nil
}

// rotated reports whether the path names another file than the open one.
func (s *FileSink) rotated() bool {
	if s.f == nil {
		return true
	}
	pi, err := os.Stat(s.path)
	if err != nil {
		return true
	}
	fi, err := s.f.Stat()
	return err != nil || !os.SameFile(pi, fi)
}

// Write appends recs, one line each, and fsyncs.
func (s *FileSink) Write(recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rotated() {
		if err := s.reopen(); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	for _, r := range recs {
		buf.Write(r.JSON)
		buf.WriteByte('\n')
	}
	if _, err := s.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("siem: writing %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("siem: syncing %s: %w", s.path, err)
	}
	return nil
}

// Close closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

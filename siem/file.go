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
// A path naming a FIFO or a character device (/dev/stdout in a container)
// is written without fsync, which they refuse: written is as far as the
// sink can deliver there.
type FileSink struct {
	path string
	mu   sync.Mutex
	f    *os.File
	// check: the file may end in a line cut short (opened, or a write
	// failed), which the next write must not continue (endTorn).
	check bool
	// regular: the open file is a regular file, which is fsynced and
	// checked for a torn last line; a pipe or a device is neither.
	regular bool
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
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("siem: opening %s: %w", s.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("siem: opening %s: %w", s.path, err)
	}
	s.f, s.regular = f, fi.Mode().IsRegular()
	s.check = s.regular
	return nil
}

// endTorn ends a last line left without its newline: a batch's write cut
// by a kill (a write to a file stops between pages on SIGKILL) or a full
// disk. The next batch would otherwise continue it, and a collector would
// read two records run together as one broken line. The cut record is one
// the exporter never saw acknowledged, so it is sent again whole; the
// broken line stays (truncating a file a log shipper tails makes it read
// the file again from the start).
func (s *FileSink) endTorn() error {
	fi, err := s.f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := s.f.ReadAt(last, fi.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = s.f.Write([]byte{'\n'})
	return err
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
	if s.check {
		if err := s.endTorn(); err != nil {
			return fmt.Errorf("siem: writing %s: %w", s.path, err)
		}
		s.check = false
	}
	var buf bytes.Buffer
	for _, r := range recs {
		buf.Write(r.JSON)
		buf.WriteByte('\n')
	}
	if _, err := s.f.Write(buf.Bytes()); err != nil {
		s.check = s.regular // part of the batch may be in the file
		return fmt.Errorf("siem: writing %s: %w", s.path, err)
	}
	if !s.regular {
		return nil // a pipe or a device: fsync fails (EINVAL) and would repeat the batch forever
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

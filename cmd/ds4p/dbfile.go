package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"

	"go.etcd.io/bbolt"
)

// openBolt is bbolt.Open of a ds4p database, refusing first a file cut
// short (errCutShort). bbolt maps the file and trusts its meta page's
// count of pages: a truncated copy (cp of a file being written, a restore
// that ran out of space) made every command and serve die on the first
// read past its end, with SIGBUS (no recover can catch it) or a panic,
// and a stack trace where an operator needs to hear what is wrong.
func openBolt(path string, o *bbolt.Options) (*bbolt.DB, error) {
	if err := checkCutShort(path); err != nil {
		return nil, err
	}
	return bbolt.Open(path, 0o600, o)
}

var errCutShort = errors.New("the file is cut short")

// checkCutShort compares the size of the bbolt file at path with the pages
// its newest valid meta page says it holds. A file that does not exist, or
// whose meta pages do not read, is left to bbolt, which reports it.
func checkCutShort(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	if st.Size() == 0 {
		// bbolt makes a new database in an empty file: a copy or restore
		// that failed at its first write (a full disk) would start serve
		// on an empty store, every consent gone, and consent list would
		// answer none. Only bbolt makes the file, and it writes its pages
		// before it returns.
		return fmt.Errorf("%w: it holds no bytes (a copy or a restore that failed, a disk that filled); "+
			"restore ds4p.db from a backup taken with serve stopped, or remove the empty file to start a new database", errCutShort)
	}
	m0, ok0 := readMeta(f, 0)
	pageSize := uint64(os.Getpagesize())
	if ok0 {
		pageSize = uint64(m0.pageSize)
	}
	m1, ok1 := readMeta(f, int64(pageSize))
	var m boltMeta
	switch {
	case ok0 && ok1 && m1.txid > m0.txid, !ok0 && ok1:
		m = m1
	case ok0:
		m = m0
	default:
		return nil
	}
	if need := m.pgid * uint64(m.pageSize); need > uint64(st.Size()) {
		return fmt.Errorf("%w: its pages run to %d bytes but it holds %d (a copy taken while serve wrote it, or a disk that filled); "+
			"restore ds4p.db from a backup taken with serve stopped", errCutShort, need, st.Size())
	}
	return nil
}

// boltMeta is what checkCutShort reads of a bbolt meta page.
type boltMeta struct {
	pageSize uint32
	pgid     uint64 // pages in use: the file holds at least pgid*pageSize bytes
	txid     uint64
}

// readMeta reads the meta page at off (bbolt's layout, in the machine's
// byte order: a 16-byte page header, then magic, version, page size,
// flags, the root bucket, the freelist page, pgid, txid and an FNV-64a
// checksum of what precedes it) and reports whether it is valid.
func readMeta(f *os.File, off int64) (boltMeta, bool) {
	const hdr, sumAt = 16, 56
	b := make([]byte, sumAt+8)
	if _, err := f.ReadAt(b, off+hdr); err != nil && !errors.Is(err, io.EOF) {
		return boltMeta{}, false
	}
	le := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:sumAt])
	if le.Uint32(b[0:]) != 0xED0CDAED || le.Uint32(b[4:]) != 2 || le.Uint64(b[sumAt:]) != h.Sum64() {
		return boltMeta{}, false
	}
	m := boltMeta{pageSize: le.Uint32(b[8:]), pgid: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}
	return m, m.pageSize >= 512
}

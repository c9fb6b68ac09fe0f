package audit

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Large entries are stored zstd-compressed. An entry of a 1,000-entry
// search lists every item with its labels: ~200 KB of JSON that repeats
// itself, written and fsynced before the response may leave, which made
// such a search wait ~5 ms for its ledger entry against ~1 ms for a read.
// Compressed, it is about a tenth of that.
//
// The stored form is told apart by its first bytes: canonical JSON starts
// with '{', a zstd frame with its magic number. So a ledger holds both
// forms side by side, and one written before compression needs no
// migration. Hashes, Verify, exports and HashAt are all over the canonical
// JSON, which is what decompression gives back; an encrypted ledger seals
// the compressed bytes.

// compressFrom is the smallest entry worth compressing (one bbolt page).
const compressFrom = 4096

// maxEntryBytes bounds what decompression may produce, so that a stored
// value crafted to expand without end fails instead of exhausting memory.
const maxEntryBytes = 256 << 20

var zstdMagic = []byte{0x28, 0xB5, 0x2F, 0xFD}

var (
	entryEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	entryDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(maxEntryBytes), zstd.WithDecoderMaxWindow(maxEntryBytes))
)

// compressEntry returns the stored form of canonical JSON plain before any
// sealing: compressed when that is worth it.
func compressEntry(plain []byte) []byte {
	if len(plain) < compressFrom {
		return plain
	}
	z := entryEncoder.EncodeAll(plain, make([]byte, 0, len(plain)/4))
	if len(z) >= len(plain) {
		return plain
	}
	return z
}

// decompressEntry returns the canonical JSON of a stored (opened) entry
// value v.
func decompressEntry(v []byte) ([]byte, error) {
	if !bytes.HasPrefix(v, zstdMagic) {
		return v, nil
	}
	plain, err := entryDecoder.DecodeAll(v, nil)
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	if len(plain) == 0 || plain[0] != '{' {
		return nil, errors.New("decompressing: not an entry")
	}
	return plain, nil
}

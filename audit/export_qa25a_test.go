package audit

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestExportGoesByKeyNotClaimedSeq: Export read each chunk from the seq
// after the last entry's own "seq" field. An entry that ends a chunk and
// claims an earlier seq (a tampered plaintext entry, which verify reports)
// sent the export back to that seq, writing entries again (here 2 and 3:
// nine lines for seven entries; with every chunk ending there, for ever).
// The export goes by the entries' keys: each stored entry once.
func TestExportGoesByKeyNotClaimedSeq(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	l.verifyChunk = 3
	appendSamples(t, l, 7)
	tamper(t, l, func(t *testing.T, b buckets) { editEntry(t, b, 3, `"seq":3,`, `"seq":1,`) })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var buf bytes.Buffer
	n, err := l.Export(ctx, time.Time{}, time.Time{}, &buf)
	if err != nil || n != 7 || bytes.Count(buf.Bytes(), []byte("\n")) != 7 {
		t.Errorf("Export of 7 entries, the third claiming seq 1 = %d lines, %v; want each entry once", n, err)
	}
}

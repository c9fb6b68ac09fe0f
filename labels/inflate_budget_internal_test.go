package labels

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strings"
	"testing"
)

// budgetBombs is a DocumentReference of n attachments, each the base64 of
// a gzip of 64 KiB of a JSON document that never closes, and the total
// length of their base64.
func budgetBombs(t *testing.T, n int) (string, int) {
	t.Helper()
	var z bytes.Buffer
	w, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bytes.Repeat([]byte(`{"a":[`), 64<<10/6))
	w.Close()
	one := base64.StdEncoding.EncodeToString(z.Bytes())
	var b strings.Builder
	b.WriteString(`{"resourceType":"DocumentReference","id":"d1","status":"current","content":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"attachment":{"contentType":"application/gzip","data":"` + one + `"}}`)
	}
	b.WriteString(`]}`)
	return b.String(), n * len(one)
}

// TestInflateBudget checks the inflate budget itself, where
// TestInflateCostQA33F once bounded the memory a test run allocated: the
// bytes the labeller inflates from a resource's attachments are at most
// 64 KiB plus 32 times the base64 of all of them together, and at most
// maxInflatedBytes, however many attachments share it (QA round 33, area
// F: a budget of its own for each attachment let 1,000 gzips of 140 bytes
// inflate 64 MiB). It holds for a resource alone and for one read inside a
// search body (Batch.AddChecked), whose rest of the body must not widen
// the budget; and the budget is spent, so the check can fail.
func TestInflateBudget(t *testing.T) {
	l, err := NewLabeller(Options{Rules: DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 100, 1000} {
		res, data := budgetBombs(t, n)
		limit := min(maxInflatedBytes, 64<<10+32*data)
		// A large ordinary entry after the resource: under AddChecked
		// the walker's body runs on to the end of the search body.
		pad := `{"resource":{"resourceType":"Basic","id":"b1","code":{"text":"` + strings.Repeat("x", 4<<20) + `"}}}`
		body := []byte(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + res + `},` + pad + `]}`)
		start := bytes.Index(body, []byte(`{"resourceType":"DocumentReference"`))
		for _, c := range []struct {
			name  string
			b     []byte
			check bool
		}{
			{"alone", []byte(res), false},
			{"in a search body", body[start:], true},
		} {
			w := walker{rs: l.rs.Load(), b: c.b}
			if c.check {
				var b Batch
				b.check.Reset(c.b, 100)
				w.check = &b.check
			}
			if _, err := w.resource(0); err != nil {
				t.Fatalf("%d attachments, %s: %v", n, c.name, err)
			}
			if w.inflateLimit != limit {
				t.Errorf("%d attachments, %s: budget %d bytes; want %d (64 KiB + 32 × %d bytes of base64, at most %d)", n, c.name, w.inflateLimit, limit, data, maxInflatedBytes)
			}
			if w.inflated > limit {
				t.Errorf("%d attachments, %s: %d bytes inflated; want at most %d", n, c.name, w.inflated, limit)
			}
			// Each bomb inflates to 64 KiB, so more than one exhausts
			// the shared budget: the bound above is reached, not idle.
			if n > 1 && w.inflated < limit-(64<<10) {
				t.Errorf("%d attachments, %s: %d bytes inflated of a budget of %d: the bombs should spend it", n, c.name, w.inflated, limit)
			}
		}
	}
}

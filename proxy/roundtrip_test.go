package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/internal/fhirmem"
	"github.com/ds4p/ds4p/labels"
)

// TestSyntheaByteForByte reads every resource of ../shared/data/synthea-10
// through the proxy from an upstream that serves the file's own bytes, and
// requires them back unchanged: decimals, unicode escapes and key order
// included. Resources the labeller marks are the only ones allowed to differ.
func TestSyntheaByteForByte(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../shared/data/synthea-10/*.ndjson")
	if len(files) == 0 {
		t.Skip("../shared/data/synthea-10 is absent: byte-for-byte round trip not run")
	}
	up := fhirmem.New("/fhir/R4")
	var lines [][]byte
	for _, f := range files {
		if filepath.Base(f) == "log.ndjson" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines = append(lines, l)
			}
		}
	}
	if err := up.Load(lines...); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, up.ServeHTTP)
	// Four readers at once: each read waits for its ledger entry to be
	// durable, and concurrent entries share one flush, so the 7,000 reads
	// take a fraction of the time one reader needs (most of this test's
	// time, under the race detector above all).
	type result struct {
		status int
		body   string
		err    error
	}
	results := make([]result, len(lines))
	const readers = 4
	var wg sync.WaitGroup
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(lines); i += readers {
				var m struct{ ResourceType, ID string }
				if err := json.Unmarshal(lines[i], &m); err != nil {
					results[i].err = err
					continue
				}
				req, err := http.NewRequest(http.MethodGet, h.proxy.URL+"/fhir/"+m.ResourceType+"/"+m.ID, nil)
				if err != nil {
					results[i].err = err
					continue
				}
				req.Header.Set("Authorization", "Bearer "+tokConsented)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					results[i].err = err
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				results[i] = result{status: resp.StatusCode, body: string(b), err: err}
			}
		}()
	}
	wg.Wait()
	same, changed, withheld := 0, 0, 0
	for i, l := range lines {
		r := results[i]
		if r.err == nil && r.status == http.StatusNotFound {
			// Withheld: only a record the labeller restricts (Synthea's
			// drug misuse and unhealthy drinking findings are SUD, and
			// their patients have no consent), and never the most.
			if res, err := h.labellerFor().Label(l); err != nil || !res.Labels.Has(labels.Restricted) {
				t.Errorf("withheld although not restricted: %.200s (labels %v)", l, res.Labels)
			}
			withheld++
			continue
		}
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("%.80s: %d %v %s", l, r.status, r.err, r.body)
		}
		if r.body == string(l) {
			same++
			continue
		}
		res, err := h.labellerFor().Label(l)
		if err != nil || !res.Changed {
			t.Errorf("changed although nothing was labelled:\nwant %s\ngot  %s", l, r.body)
		}
		changed++
	}
	if same < len(lines)*99/100 {
		t.Fatalf("only %d of %d resources came back byte for byte (%d labelled, %d withheld)", same, len(lines), changed, withheld)
	}
	t.Logf("%d resources byte for byte, %d labelled, %d withheld", same, changed, withheld)
}

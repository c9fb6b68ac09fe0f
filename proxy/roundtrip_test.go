package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/ds4p/ds4p/internal/fhirmem"
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
	same, changed := 0, 0
	for _, l := range lines {
		var m struct{ ResourceType, ID string }
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		resp, body := h.get("/fhir/"+m.ResourceType+"/"+m.ID, tokConsented)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s/%s: %d %s", m.ResourceType, m.ID, resp.StatusCode, body)
		}
		if body == string(l) {
			same++
			continue
		}
		res, err := h.labellerFor().Label(l)
		if err != nil || !res.Changed {
			t.Errorf("%s/%s changed although nothing was labelled:\nwant %s\ngot  %s", m.ResourceType, m.ID, l, body)
		}
		changed++
	}
	if same < len(lines)*99/100 {
		t.Fatalf("only %d of %d resources came back byte for byte (%d labelled)", same, len(lines), changed)
	}
	t.Logf("%d resources byte for byte, %d labelled", same, changed)
}

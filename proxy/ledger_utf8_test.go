package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// A request whose query holds bytes that are not UTF-8 (Go's server passes
// them on as sent) is recorded so that the ledger still verifies, and so
// do the entries after it. Before, the entry's stored JSON held \ufffd
// where the entry held the byte, verify found it not hashing to its hash
// and stopped there: one request hid every later entry from verification.
func TestLedgerVerifiesAfterInvalidUTF8Query(t *testing.T) {
	t.Parallel()
	l := tempLedger(t) // admin_test.go
	search := `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"x","resource":` + refsObs + `,"search":{"mode":"match"}}]}`
	h := newHarness(t, fhirJSONHandler(200, search), func(_ *Options, d *Deps) { d.Ledger = l })
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.proxy.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /fhir/Observation?subject=Patient/p1&code=ab\xff\xfe HTTP/1.1\r\nHost: ds4p\r\nAuthorization: Bearer " + tokOther + "\r\nConnection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search with bytes not UTF-8 in its query: %d %s", resp.StatusCode, body)
	}
	if r, body := h.get("/fhir/Observation?subject=Patient/p1", tokOther); r.StatusCode != http.StatusOK {
		t.Fatalf("search after it: %d %s", r.StatusCode, body)
	}
	got, err := l.Find(t.Context(), audit.Query{})
	if err != nil || len(got) != 2 || !strings.Contains(got[0].Query+got[1].Query, "\uFFFD\uFFFD") {
		t.Fatalf("ledger = %+v, %v; want both searches, the first with U+FFFD for the bytes", got, err)
	}
	if n, err := l.Verify(t.Context()); err != nil || n != 2 {
		t.Fatalf("Verify = %d, %v; want both entries verified", n, err)
	}
}

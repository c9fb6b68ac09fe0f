// Package siem tests the SIEM export and the rate limits through the built
// ds4p binary: a caller over its limit gets 429 while another is not, and
// after a SIGKILL under load and a restart the SIEM file holds every
// ledger entry and every security event, duplicates only from the batch
// that was not acknowledged.
package siem

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/fhirmem"
	"github.com/ds4p/ds4p/internal/seal"
	"github.com/ds4p/ds4p/internal/servetest"
	"github.com/ds4p/ds4p/siem"
	"go.etcd.io/bbolt"
)

const (
	clients   = 8
	killAfter = 300
	maxLoad   = 20 * time.Second
)

// config: reads limited hard (for the 429 check), searches generous (the
// load); the SIEM file with a short poll interval.
const config = `protection:
  rate_limits:
    read: {rate: 0.5, burst: 5}
    search: {rate: 10000, burst: 10000}
siem:
  file: %s
  interval: 100ms
  batch: 50
`

type proc struct {
	proc *servetest.Proc
	base string
}

func TestSIEMEveryRecordAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ds4p binary")
	}
	bin := buildDS4P(t)
	upstream := startUpstream(t)
	data := t.TempDir()
	siemFile := filepath.Join(t.TempDir(), "siem.jsonl")
	cfg := filepath.Join(t.TempDir(), "ds4p.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, config, siemFile), 0o600); err != nil {
		t.Fatal(err)
	}
	alice := mint(t, bin, data, "alice", "Organization/a")
	bob := mint(t, bin, data, "bob", "Organization/b")

	p := startServe(t, bin, data, cfg, upstream)
	limited := rateLimitCheck(t, p.base, alice, bob)
	received, refused := load(t, p, alice)
	t.Logf("%d responses and %d token refusals received before SIGKILL", len(received), len(refused))
	if len(received) == 0 || len(refused) == 0 {
		t.Fatal("nothing was received before the kill; the test proves nothing")
	}

	p2 := startServe(t, bin, data, cfg, upstream)
	want := map[string]bool{limited: true}
	for id := range received {
		want[id] = true
	}
	for id := range refused {
		want[id] = true
	}
	waitExported(t, siemFile, want)
	if err := p2.proc.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p2.proc.Wait()

	head, cursor, pending := storeState(t, data)
	lines := readLines(t, siemFile)
	ledgerSeen, eventSeen := map[uint64]int{}, map[uint64]int{}
	ids := map[string]bool{}
	var maxEvent uint64
	for _, l := range lines {
		switch l.Stream {
		case siem.StreamLedger:
			ledgerSeen[l.Seq]++
			ids[l.Entry.RequestID] = true
		case siem.StreamSecurity:
			eventSeen[l.Seq]++
			ids[l.Event.RequestID] = true
			maxEvent = max(maxEvent, l.Seq)
		}
	}
	for id := range want {
		if !ids[id] {
			t.Errorf("request %s was answered but its ledger entry or event never reached the SIEM file", id)
		}
	}
	for seq := uint64(1); seq <= head; seq++ {
		if ledgerSeen[seq] == 0 {
			t.Errorf("ledger seq %d of %d is missing from the SIEM file", seq, head)
		}
	}
	for seq := uint64(1); seq <= maxEvent; seq++ {
		if eventSeen[seq] == 0 {
			t.Errorf("security event %d of %d is missing from the SIEM file", seq, maxEvent)
		}
	}
	if cursor.Ledger != head || cursor.Events != maxEvent || pending != 0 {
		t.Errorf("after the drain: cursor %+v, ledger head %d, last event %d, %d events pending; want all acknowledged", cursor, head, maxEvent, pending)
	}
	dupL, dupE := dups(ledgerSeen), dups(eventSeen)
	t.Logf("SIEM file: %d lines, ledger seqs 1..%d, events 1..%d; duplicates: %d ledger, %d events", len(lines), head, maxEvent, dupL, dupE)
	if dupL > 50 || dupE > 50 { // siem.batch: only the last unacknowledged batch may repeat
		t.Errorf("duplicates beyond one batch of 50: %d ledger, %d events", dupL, dupE)
	}
	kinds := map[string]int{}
	for _, l := range lines {
		kinds[l.Event.Kind]++
	}
	for _, k := range []string{siem.KindTokenRefused, siem.KindRateLimited, siem.KindPolicyLoaded} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in the SIEM file (%v)", k, kinds)
		}
	}
}

// rateLimitCheck: alice's 6th read within the burst of 5 is a 429 with an
// OperationOutcome and Retry-After, bob's read is not; it returns the
// 429's request id.
func rateLimitCheck(t *testing.T, base, alice, bob string) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 5 {
		if st, body, _ := do(client, base+"/fhir/Patient/p1", alice, fmt.Sprintf("read-%d", i)); st != 200 {
			t.Fatalf("read %d within the burst: %d %s", i, st, body)
		}
	}
	st, body, hdr := do(client, base+"/fhir/Patient/p1", alice, "limited-1")
	if st != http.StatusTooManyRequests || !strings.Contains(body, `"resourceType":"OperationOutcome"`) ||
		!strings.Contains(body, `"code":"throttled"`) || hdr.Get("Retry-After") == "" {
		t.Fatalf("6th read: %d %s Retry-After=%q; want 429 throttled with Retry-After", st, body, hdr.Get("Retry-After"))
	}
	if st, body, _ := do(client, base+"/fhir/Patient/p1", bob, "bob-1"); st != 200 {
		t.Fatalf("another caller: %d %s; want 200", st, body)
	}
	return "limited-1"
}

// load sends searches with alice's token and reads with a bad one from
// several clients, and kills the proxy with SIGKILL once killAfter
// searches were answered. It returns the request ids of the complete 200
// and 401 responses.
func load(t *testing.T, p *proc, token string) (ok200, got401 map[string]bool) {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	var mu sync.Mutex
	ok200, got401 = map[string]bool{}, map[string]bool{}
	var n atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("siem-%02d-%06d", c, i)
				tok, want, into := token, 200, ok200
				if i%10 == 9 {
					tok, want, into = "not-a-token", 401, got401
				}
				patient := []string{"p1", "p2"}[(c+i)%2]
				st, _, hdr := doCtx(ctx, client, p.base+"/fhir/Observation?patient="+patient, tok, id)
				if st != want || hdr.Get("X-Request-Id") != id {
					continue
				}
				mu.Lock()
				into[id] = true
				mu.Unlock()
				if want == 200 && n.Add(1) == killAfter {
					once.Do(func() { close(enough) })
				}
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(maxLoad):
	}
	p.proc.Kill() // SIGKILL, mid-load
	stop()
	wg.Wait()
	return ok200, got401
}

func do(client *http.Client, url, token, id string) (int, string, http.Header) {
	return doCtx(context.Background(), client, url, token, id)
}

// doCtx sends a GET and returns the status, the body and the headers of a
// complete response (0 when none came).
func doCtx(ctx context.Context, client *http.Client, url, token, id string) (int, string, http.Header) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-Id", id)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", nil
	}
	return resp.StatusCode, string(body), resp.Header
}

type line struct {
	Stream string      `json:"stream"`
	Seq    uint64      `json:"seq"`
	Entry  audit.Entry `json:"entry"`
	Event  siem.Event  `json:"event"`
}

func readLines(t *testing.T, path string) []line {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []line
	var torn, whole []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			torn = append(torn, sc.Text())
			continue
		}
		whole = append(whole, sc.Text())
		out = append(out, l)
	}
	// A line the SIGKILL cut short (a write to a file stops between pages)
	// is ended by the restarted sink, and its record sent again whole: a
	// broken line must be the start of a whole one.
	for _, tl := range torn {
		found := false
		for _, w := range whole {
			if len(tl) < len(w) && strings.HasPrefix(w, tl) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("a SIEM line is not JSON nor the start of a record sent again whole: %.200s", tl)
		}
	}
	if len(torn) > 1 {
		t.Fatalf("%d broken lines, want at most the one the kill cut", len(torn))
	}
	return out
}

// waitExported waits until every wanted request id is in the file and the
// file stopped growing (the exporter drained what the restart found).
func waitExported(t *testing.T, path string, want map[string]bool) {
	t.Helper()
	var lastSize int64 = -1
	stableSince := time.Now()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		if st.Size() != lastSize {
			lastSize, stableSince = st.Size(), time.Now()
			continue
		}
		if time.Since(stableSince) < 1500*time.Millisecond {
			continue
		}
		ids := map[string]bool{}
		for _, l := range readLines(t, path) {
			ids[l.Entry.RequestID], ids[l.Event.RequestID] = true, true
		}
		missing := 0
		for id := range want {
			if !ids[id] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
	}
	t.Log("the SIEM file did not settle with every request id within 60s; checking what is there")
}

// storeState opens the store read-only after the proxy stopped: the
// ledger head, the export cursor and the events still queued.
func storeState(t *testing.T, data string) (uint64, siem.Cursor, int) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(data, "ds4p.db"), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ring, err := seal.LoadKeyFile(filepath.Join(data, "storage.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.Open(db, ring)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(db, audit.WithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	head, _, err := l.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	q, err := siem.OpenQueue(db, siem.WithSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	cur, err := q.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	pending, err := q.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return head, cur, pending
}

func dups(seen map[uint64]int) int {
	n := 0
	for _, c := range seen {
		n += c - 1
	}
	return n
}

func buildDS4P(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "ds4p")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ds4p")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building ds4p: %v\n%s", err, out)
	}
	return bin
}

// startUpstream serves two patients with three observations each.
func startUpstream(t *testing.T) string {
	t.Helper()
	fhir := fhirmem.New("/fhir")
	var resources [][]byte
	for _, p := range []string{"p1", "p2"} {
		resources = append(resources, fmt.Appendf(nil, `{"resourceType":"Patient","id":%q}`, p))
		for i := range 3 {
			resources = append(resources, fmt.Appendf(nil, `{"resourceType":"Observation","id":"%s-o%d","status":"final",`+
				`"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/%s"}}`, p, i, p))
		}
	}
	if err := fhir.Load(resources...); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fhir)
	t.Cleanup(srv.Close)
	return srv.URL + "/fhir"
}

func mint(t *testing.T, bin, data, sub, org string) string {
	t.Helper()
	out, err := exec.Command(bin, "token", "--data", data, "--sub", sub, "--org", org,
		"--purpose", "TREAT", "--scope", "user/*.rs").Output()
	if err != nil {
		t.Fatalf("ds4p token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func startServe(t *testing.T, bin, data, cfg, upstream string) *proc {
	t.Helper()
	cmd := serveCmd(bin, data, cfg, upstream, []string{"OTEL_SDK_DISABLED=true"})
	cmd.Stderr = os.Stderr
	sp, err := servetest.Start(cmd, 20*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sp.Kill)
	return &proc{proc: sp, base: sp.Base}
}

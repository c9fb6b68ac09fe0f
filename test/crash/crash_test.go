// Package crash kills `ds4p serve` with SIGKILL under load and checks that
// the disclosure ledger survived: the chain verifies, and every response a
// client received has its ledger entry (the ledger is fsynced before a
// response is released).
package crash

import (
	"bytes"
	"context"
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
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/fhirmem"
	"github.com/ds4p/ds4p/internal/seal"
	"github.com/ds4p/ds4p/internal/servetest"
	"go.etcd.io/bbolt"
)

const (
	// clients is how many goroutines send requests concurrently.
	clients = 16
	// killAfter is how many complete 200 responses the clients receive
	// before the proxy is killed; maxLoad bounds the load if fewer come.
	killAfter = 400
	maxLoad   = 20 * time.Second
)

// TestKillUnderLoad is the crash test of the ledger.
func TestKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ds4p binary")
	}
	bin := buildDS4P(t)
	upstream := startUpstream(t)
	data := t.TempDir()
	token := mint(t, bin, data)
	proxy, cmd := startServe(t, bin, data, upstream)

	received := load(t, proxy, token, cmd)
	if len(received) == 0 {
		t.Fatal("no response was received before the kill; the test proves nothing")
	}
	t.Logf("%d responses received before SIGKILL", len(received))

	out, err := exec.Command(bin, "audit", "verify", "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("ds4p audit verify after the crash: %v\n%s", err, out)
	}
	t.Logf("verify: %s", bytes.TrimSpace(out))
	recorded := ledgerRequestIDs(t, data)
	missing := 0
	for id := range received {
		if !recorded[id] {
			missing++
			if missing <= 5 {
				t.Errorf("request %s was answered 200 but has no ledger entry", id)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d received responses have no ledger entry", missing, len(received))
	}
	assertSealedOnDisk(t, data, received)
}

// assertSealedOnDisk checks that serve encrypted the ledger at rest: the
// bbolt file names neither patient nor any request id the ledger recorded.
func assertSealedOnDisk(t *testing.T, data string, received map[string]bool) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(data, "ds4p.db"))
	if err != nil {
		t.Fatal(err)
	}
	needles := []string{"Patient/p1", "Patient/p2"}
	for id := range received {
		needles = append(needles, id)
	}
	for _, n := range needles {
		if bytes.Contains(raw, []byte(n)) {
			t.Errorf("the database file holds %q in plaintext", n)
			return
		}
	}
}

// buildDS4P builds the binary into a temporary directory.
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

// startUpstream serves two patients and their observations in memory.
func startUpstream(t *testing.T) string {
	t.Helper()
	fhir := fhirmem.New("/fhir")
	var resources [][]byte
	for _, p := range []string{"p1", "p2"} {
		resources = append(resources, fmt.Appendf(nil, `{"resourceType":"Patient","id":%q,"name":[{"family":"Crash"}]}`, p))
		for i := range 3 {
			resources = append(resources, fmt.Appendf(nil, `{"resourceType":"Observation","id":"%s-o%d","status":"final",`+
				`"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/%s"},`+
				`"valueQuantity":{"value":%d,"unit":"/min"}}`, p, i, p, 60+i))
		}
	}
	if err := fhir.Load(resources...); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fhir)
	t.Cleanup(srv.Close)
	return srv.URL + "/fhir"
}

// mint returns a development token for reads with purpose TREAT.
func mint(t *testing.T, bin, data string) string {
	t.Helper()
	out, err := exec.Command(bin, "token", "--data", data, "--sub", "crash-tester", "--org", "Organization/o",
		"--purpose", "TREAT", "--scope", "user/*.rs").Output()
	if err != nil {
		t.Fatalf("ds4p token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// startServe starts ds4p serve and waits until it is ready.
func startServe(t *testing.T, bin, data, upstream string) (string, *servetest.Proc) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--upstream", upstream, "--data", data, "--dev-auth", "--log-level", "error")
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true")
	cmd.Stderr = os.Stderr
	p, err := servetest.Start(cmd, 20*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p.Base, p
}

// load sends reads from many clients, kills the proxy with SIGKILL once
// killAfter responses arrived (or maxLoad passed), and returns the request
// ids of the complete 200 responses received.
func load(t *testing.T, base, token string, proc *servetest.Proc) map[string]bool {
	t.Helper()
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	paths := []string{"/fhir/Observation?patient=p1", "/fhir/Patient/p1", "/fhir/Observation?patient=p2", "/fhir/Observation/p2-o1"}
	var mu sync.Mutex
	received := map[string]bool{}
	var ok atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("crash-%02d-%06d", c, i)
				if get(ctx, client, base+paths[(c+i)%len(paths)], token, id) {
					mu.Lock()
					received[id] = true
					mu.Unlock()
					if ok.Add(1) == killAfter {
						once.Do(func() { close(enough) })
					}
				}
			}
		})
	}
	select {
	case <-enough:
	case <-time.After(maxLoad):
	}
	proc.Kill() // SIGKILL, mid-load
	stop()
	wg.Wait()
	return received
}

// get sends one read and reports whether a complete 200 response carrying
// the request id came back.
func get(ctx context.Context, client *http.Client, url, token, id string) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-Id", id)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK && resp.Header.Get("X-Request-Id") == id && len(body) > 0
}

// ledgerRequestIDs opens the ledger read-only and returns every request id
// it holds.
func ledgerRequestIDs(t *testing.T, data string) map[string]bool {
	t.Helper()
	// Read-write: Open stores what the crash left in the journal (ds4p
	// audit verify, read-only, checked those entries from the journal).
	db, err := bbolt.Open(filepath.Join(data, "ds4p.db"), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// serve encrypts the store with the key it made in the data directory.
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
	defer l.Close() // before the database's
	ids := map[string]bool{}
	err = l.Scan(t.Context(), audit.Query{}, func(e audit.Entry) error {
		ids[e.RequestID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

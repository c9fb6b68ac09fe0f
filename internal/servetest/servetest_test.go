package servetest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for `ds4p serve`: with
// SERVETEST_CHILD set it listens where --listen says, prints the line serve
// prints, and answers /readyz 503 for the first SERVETEST_NOT_READY polls.
func TestMain(m *testing.M) {
	switch os.Getenv("SERVETEST_CHILD") {
	case "":
		os.Exit(m.Run())
	case "exit":
		fmt.Println("config error")
		os.Exit(2)
	case "serve":
		addr := ""
		for i, a := range os.Args {
			if a == "--listen" && i+1 < len(os.Args) {
				addr = os.Args[i+1]
			}
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var notReady atomic.Int64
		var n int64
		_, _ = fmt.Sscan(os.Getenv("SERVETEST_NOT_READY"), &n)
		notReady.Store(n)
		fmt.Printf("ds4p listening on http://%s/fhir (upstream http://example.org/fhir)\n", ln.Addr())
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" && notReady.Add(-1) >= 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = fmt.Fprint(w, "child ", os.Getpid())
		}))
	}
}

func child(mode string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"SERVETEST_CHILD=" + mode}, env...)...)
	return cmd
}

// TestStartReadsTheChildsAddress: the base URL is the one the child bound
// (port 0 resolved by the kernel), and Start returns only once /readyz
// answers 200.
func TestStartReadsTheChildsAddress(t *testing.T) {
	t.Parallel()
	p, err := Start(child("serve", "SERVETEST_NOT_READY=3"), 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(time.Second) })
	if !strings.HasPrefix(p.Base, "http://127.0.0.1:") || strings.HasSuffix(p.Base, ":0") {
		t.Fatalf("base %q", p.Base)
	}
	resp, err := http.Get(p.Base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Start returned before the child was ready: /readyz %d", resp.StatusCode)
	}
	resp, err = http.Get(p.Base + "/x")
	if err != nil {
		t.Fatal(err)
	}
	var body [64]byte
	n, _ := resp.Body.Read(body[:])
	resp.Body.Close()
	if want := fmt.Sprint("child ", p.Cmd.Process.Pid); string(body[:n]) != want {
		t.Fatalf("the base reaches %q, want %q", body[:n], want)
	}
	p.Kill()
	select {
	case <-p.Done():
	default:
		t.Fatal("Kill returned before the child exited")
	}
}

func TestStartReportsAnEarlyExit(t *testing.T) {
	t.Parallel()
	_, err := Start(child("exit"), 10*time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartTimesOutWhenNeverReady(t *testing.T) {
	t.Parallel()
	cmd := child("serve", "SERVETEST_NOT_READY=1000000")
	_, err := Start(cmd, 500*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "did not become ready") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
	if cmd.ProcessState == nil {
		t.Fatal("the child was left running after the timeout")
	}
}

func TestStartRefusesAListenFlag(t *testing.T) {
	t.Parallel()
	cmd := child("serve")
	cmd.Args = append(cmd.Args, "--listen", "127.0.0.1:8080")
	if _, err := Start(cmd, time.Second, nil); err == nil {
		t.Fatal("a command with --listen was started")
	}
	if cmd.Process != nil {
		t.Fatal("the child was started")
	}
}

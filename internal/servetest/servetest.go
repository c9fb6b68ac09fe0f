// Package servetest runs `ds4p serve` as a child process for the suites
// that test the built binary (test/e2e, test/oracle, test/hostile,
// test/siem, test/crash).
//
// The child listens on a port the kernel picks (--listen 127.0.0.1:0) and
// the suite reads the address from the line serve prints on stdout. Picking
// a free port in the test, closing it and handing the number to the child
// raced with every other test process on the machine: `go test ./...` runs
// packages in parallel, another package's httptest server could take the
// port first, and the readiness poll then took that server's 200 for
// ds4p's, so the suite talked to a stranger (CI saw exactly that).
package servetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// listeningPrefix is how `ds4p serve` announces its address on stdout
// (cmd/ds4p/serve.go): "ds4p listening on http://127.0.0.1:PORT/fhir ...".
const listeningPrefix = "ds4p listening on "

// Proc is a started `ds4p serve`.
type Proc struct {
	// Base is the server's root URL, e.g. http://127.0.0.1:40123 (no /fhir).
	Base string
	Cmd  *exec.Cmd
	done chan struct{}
	err  error // cmd.Wait's, once done is closed
}

// Start appends `--listen 127.0.0.1:0` to cmd (a `ds4p serve` command that
// does not set --listen itself), starts it and waits, up to timeout, until
// /readyz answers as ready says (nil: status 200). cmd.Stdout must be
// unset: Start reads it for the address and drains the rest. On an error
// the child is killed.
func Start(cmd *exec.Cmd, timeout time.Duration, ready func(status int, body string) bool) (*Proc, error) {
	if ready == nil {
		ready = func(status int, _ string) bool { return status == http.StatusOK }
	}
	for _, a := range cmd.Args {
		if a == "--listen" || strings.HasPrefix(a, "--listen=") {
			return nil, errors.New("servetest: the command sets --listen; Start picks the address")
		}
	}
	cmd.Args = append(cmd.Args, "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), listeningPrefix); ok {
				select {
				case addr <- rest:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.err = cmd.Wait()
		close(p.done)
	}()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case line := <-addr:
		base, _, _ := strings.Cut(line, " ")
		base = strings.TrimSuffix(base, "/fhir")
		if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
			p.Kill()
			return nil, fmt.Errorf("servetest: cannot read the address from %q", listeningPrefix+line)
		}
		p.Base = base
	case <-p.done:
		return nil, fmt.Errorf("servetest: ds4p serve exited before listening (%v)", cmd.ProcessState)
	case <-deadline.C:
		p.Kill()
		return nil, fmt.Errorf("servetest: ds4p serve did not print its address within %s", timeout)
	}
	last := ""
	for {
		if resp, err := http.Get(p.Base + "/readyz"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
			if ready(resp.StatusCode, string(b)) {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("servetest: ds4p serve exited before it was ready (%v); last /readyz: %s", cmd.ProcessState, last)
		case <-deadline.C:
			p.Kill()
			return nil, fmt.Errorf("servetest: ds4p serve did not become ready within %s; last /readyz: %s", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Done is closed once the child has exited and its stdout is drained.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the child to exit and returns how it exited, as
// exec.Cmd.Wait would.
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// Kill sends SIGKILL and waits for the child to exit.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Kill()
	<-p.done
}

// Stop asks the child to shut down (an interrupt, as an operator's Ctrl-C
// would) and kills it when it has not exited within grace.
func (p *Proc) Stop(grace time.Duration) {
	_ = p.Cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}

package proxy

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestUpstreamTokenFile: with upstream credentials from a token file,
// every request ds4p sends the upstream carries the file's bearer token and
// never the caller's; a token the upstream rejects (401) makes ds4p read
// the file again, so a renewed token is used at once; and with no token
// (the file emptied) nothing is sent and nothing disclosed.
func TestUpstreamTokenFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ehr-token")
	if err := os.WriteFile(file, []byte("tok-one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	valid, seen := "tok-one", []string{}
	creds, err := NewTokenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got, ok := r.Header.Get("Authorization"), valid
		seen = append(seen, got)
		mu.Unlock()
		if got != "Bearer "+ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fhirJSONHandler(200, bpObs)(w, r)
	}, func(o *Options, _ *Deps) { o.UpstreamCredentials = creds })
	read := func() (int, string) {
		resp, body := h.get("/fhir/Observation/bp1", tokOther)
		return resp.StatusCode, body
	}
	if code, body := read(); code != 200 || !strings.Contains(body, `"bp1"`) {
		t.Fatalf("read with the token: %d %s", code, body)
	}
	// The proxy's own requests carry it too: the readiness probe's.
	mu.Lock()
	n := len(seen)
	mu.Unlock()
	h.get("/readyz", "")
	mu.Lock()
	if len(seen) == n {
		t.Errorf("/readyz sent no request upstream")
	}
	mu.Unlock()
	// The token is renewed: the upstream takes only the new one.
	if err := os.WriteFile(file, []byte("tok-two-renewed"), 0o600); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	valid = "tok-two-renewed"
	mu.Unlock()
	code, _ := read() // within the second: the old token, rejected
	if code == 200 {
		// The file was looked at again already (a second passed): fine too.
		t.Logf("the renewed token was read before any rejection")
	}
	if code, body := read(); code != 200 || !strings.Contains(body, `"bp1"`) {
		t.Fatalf("read after the upstream rejected the old token: %d %s", code, body)
	}
	// No token: nothing reaches the upstream, nothing is disclosed.
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	valid, before := "", len(seen)
	mu.Unlock()
	creds.Rejected("tok-two-renewed") // as a 401 would: look at the file at once
	if code, body := read(); code != http.StatusBadGateway || strings.Contains(body, "bp1") || strings.Contains(body, "tok-") {
		t.Errorf("read without a token: %d %s", code, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != before {
		t.Errorf("a request reached the upstream without a token: %q", seen[before:])
	}
	for _, a := range seen {
		if !strings.HasPrefix(a, "Bearer tok-") {
			t.Errorf("the upstream got Authorization %q: not the proxy's token", a)
		}
	}
}

// TestTokenFileRefusesWhatIsNoToken: a token file that is empty, holds two
// lines, or is not a regular file is refused where it is configured, and
// the refusal never quotes what the file holds.
func TestTokenFileRefusesWhatIsNoToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty": "  \n", "two lines": "secret-one\nsecret-two\n", "bearer alone": "Bearer",
		"a space inside": "Bearer secret-three", "control byte": "secret\x01four",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := NewTokenFile(p)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: NewTokenFile = %v", name, err)
		}
	}
	if _, err := NewTokenFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
	if _, err := NewTokenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// TestReadinessFailsWhenUpstreamRefusesCredentials: with upstream
// credentials set, an upstream answering 401 or 403 refuses ds4p's token,
// and every request would fail: /readyz says so (503) instead of ready. A
// read retried with a fresh token that is refused too answers as before.
func TestReadinessFailsWhenUpstreamRefusesCredentials(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "ehr-token")
	if err := os.WriteFile(file, []byte("tok-stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := NewTokenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		h := newHarness(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) },
			func(o *Options, _ *Deps) { o.UpstreamCredentials = creds })
		resp, body := h.get("/readyz", "")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "refuses ds4p's credentials") || strings.Contains(body, "tok-stale") {
			t.Errorf("upstream %d: /readyz %d %s", status, resp.StatusCode, body)
		}
	}
}

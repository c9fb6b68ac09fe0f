package console

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ds4p/ds4p/rego"
)

// A Rego test run the request cut short, that timed out or ran no test
// is answered as such and never kept as the revision's result.
func TestPolicyTestsCacheOnlyCompleteRuns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.PolicyFS = func() fs.FS { return rego.FS() } })
	b := f.login(t, complianceTok)
	// The request goes away at once: the run is the server's and finishes.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("POST", "/console/api/policy/tests", strings.NewReader(`{}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.AddCookie(b.cookie)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	var out struct {
		Passed, Failed int
		Error          string
		Tests          []testResult
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error != "" || out.Passed == 0 || out.Failed != 0 {
		t.Fatalf("cancelled request: %d %.300s", rec.Code, rec.Body)
	}
	if f.h.tests.result == nil {
		t.Fatal("a complete run was not kept")
	}

	// A run cut short by its timeout is not kept.
	f2 := newFixture(t, func(c *Config) { c.PolicyFS = func() fs.FS { return rego.FS() } })
	f2.h.tests.timeout = time.Nanosecond
	b2 := f2.login(t, complianceTok)
	rec = f2.call(b2, "policy/tests", `{}`)
	out.Error = ""
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error == "" {
		t.Fatalf("timed-out run: %d %.300s", rec.Code, rec.Body)
	}
	if f2.h.tests.result != nil {
		t.Fatalf("a timed-out run was kept: %v", f2.h.tests.result)
	}

	// A policy without tests: an error, not "0 passed, 0 failed".
	noTests := fstest.MapFS{"ds4p/x.rego": {Data: []byte("package ds4p.x\n\nallow := true\n")}}
	f3 := newFixture(t, func(c *Config) { c.PolicyFS = func() fs.FS { return noTests } })
	b3 := f3.login(t, complianceTok)
	rec = f3.call(b3, "policy/tests", `{}`)
	out.Error = ""
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error == "" {
		t.Fatalf("no tests: %d %.300s", rec.Code, rec.Body)
	}
	if f3.h.tests.result != nil {
		t.Fatal("a run of no tests was kept")
	}
}

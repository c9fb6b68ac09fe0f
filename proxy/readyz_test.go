package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

type degraded struct{ error }

func (degraded) Degraded() bool { return true }

// TestReadyzWarnsOnDegradedCheck: a check that fails but says Degraded (a
// rejected policy change while the last good one serves) keeps the proxy
// ready with status warn; a plain failure makes it unready.
func TestReadyzWarnsOnDegradedCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		err     error
		code    int
		overall string
		check   string
	}{
		{"passing", nil, http.StatusOK, "pass", "pass"},
		{"degraded", degraded{errors.New("revision r2 was rejected and r1 keeps serving")}, http.StatusOK, "warn", "warn"},
		{"wrapped degraded", fmtWrap(degraded{errors.New("rejected")}), http.StatusOK, "warn", "warn"},
		{"failing", errors.New("store closed"), http.StatusServiceUnavailable, "fail", "fail"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"CapabilityStatement"}`), func(o *Options, d *Deps) {
				d.Checks = map[string]func(context.Context) error{"x": func(context.Context) error { return tt.err }}
			})
			resp, body := h.get("/readyz", "")
			var r struct {
				Status string
				Checks map[string]struct{ Status, Detail string }
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.code || r.Status != tt.overall || r.Checks["x"].Status != tt.check {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if tt.err != nil && r.Checks["x"].Detail == "" {
				t.Fatalf("no detail: %s", body)
			}
		})
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

package proxy

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// The access log names the calling organisation (and client), never the
// token's subject, the path or the query.
func TestAccessLogNamesTheCallerNotThePatient(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	h.get("/fhir/Observation/bp1?subject=Patient/p1", tokConsented)
	h.get("/fhir/Observation/bp1", "") // refused before authentication
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d access log lines:\n%s", len(lines), logs.String())
	}
	if lines[0]["org"] != "Organization/org-a" || lines[1]["org"] != "" {
		t.Errorf("org %v, %v", lines[0]["org"], lines[1]["org"])
	}
	for _, leak := range []string{"u-Organization", "Patient/p1", "bp1"} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("the log holds %q:\n%s", leak, logs.String())
		}
	}
}

package proxy

import (
	"net/url"
	"testing"
)

// TestAuditToAtTheZeroTime: to=0001-01-01 (or the same instant in any
// form) parsed to Go's zero time, which the ledger reads as no bound, so
// the auditor who asked for the entries before year 1 (none) got every
// entry, and an accounting of the patient's whole history. It is a 400,
// as the other ranges nothing could match are.
func TestAuditToAtTheZeroTime(t *testing.T) {
	t.Parallel()
	for _, to := range []string{"0001-01-01", "0001-01-01T00:00:00Z", "0001-01-01T05:00:00+05:00"} {
		if q, err := parseAuditQuery(url.Values{"to": {to}}); err == nil {
			t.Errorf("GET /admin/audit?to=%s = no error, query to %v (no bound)", to, q.To)
		}
		if _, _, err := timeRange("", to); err == nil {
			t.Errorf("accounting to=%s = no error", to)
		}
	}
	if _, err := parseAuditQuery(url.Values{"to": {"1500-01-01"}, "from": {"0001-01-01"}}); err != nil {
		t.Errorf("from=0001-01-01 (the start, as no from) to=1500-01-01 = %v", err)
	}
}

package console

import (
	"net/http"
	"testing"
)

// TestAccountingRelaysPrunedHeaderQA42D (QA round 42, area D): after a
// prune, GET /admin/audit/accounting says that the range reaches into
// pruned entries in the header X-DS4P-Pruned-Through, the only place a CSV
// or FHIR accounting says it (the JSON one also in "pruned"). The console
// relayed the answer without that header, and its report page drew
// neither: the printed accounting read "Period: the beginning of the
// ledger to now. N disclosures." and the downloaded CSV went out with no
// sign that the disclosures before the checkpoint are in the export files
// only. The header is relayed and the page shows the note.
func TestAccountingRelaysPrunedHeaderQA42D(t *testing.T) {
	t.Parallel()
	const through = "2020-03-01T09:06:00Z"
	f := newFixture(t, func(c *Config) {
		c.Admin = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-DS4P-Pruned-Through", through)
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			_, _ = w.Write([]byte("date,seq\n"))
		})
	})
	b := f.login(t, auditorTok)
	rec := f.call(b, "audit/accounting", `{"patient":"Patient/p1","format":"csv"}`)
	if rec.Code != http.StatusOK || rec.Header().Get("X-DS4P-Pruned-Through") != through {
		t.Errorf("accounting through the console = %d, X-DS4P-Pruned-Through %q; want 200 and %q (the CSV's only sign of the pruned disclosures)",
			rec.Code, rec.Header().Get("X-DS4P-Pruned-Through"), through)
	}
}

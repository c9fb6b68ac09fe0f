package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAuditorReadsRecordedQA37C (QA round 37, area C): an auditor's GET
// /admin/audit?patient=... and /admin/audit/accounting?patient=... name
// the patient and their disclosures (under 42 CFR Part 2, that they are in
// SUD treatment), and were recorded nowhere a second auditor could review.
// Each is now a ledger entry (interaction audit-read, the auditor as
// caller, the patient filter), in the hash chain, listed with
// audit_reads=true and left out of the default listing; it discloses
// nothing, so the patient's accounting is unchanged.
func TestAuditorReadsRecordedQA37C(t *testing.T) {
	t.Parallel()
	l := seededLedger(t)
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
	accounting := func() int {
		resp, body := h.get("/admin/audit/accounting?patient=Patient/p1&format=fhir", tokAdmin)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("accounting: %d %s", resp.StatusCode, body)
		}
		var b struct {
			Entry []json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			t.Fatal(err)
		}
		return len(b.Entry)
	}
	before := accounting()
	if before != 6 {
		t.Fatalf("p1's accounting lists %d AuditEvents, want the 6 seeded", before)
	}
	if resp, body := h.get("/admin/audit?patient=Patient/p1", tokAdmin); resp.StatusCode != http.StatusOK {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	if after := accounting(); after != before {
		t.Errorf("the accounting lists %d AuditEvents after the auditor's reads, %d before", after, before)
	}
	resp, body := h.get("/admin/audit?audit_reads=true&patient=Patient/p1", tokAdmin)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("audit reads: %d %s", resp.StatusCode, body)
	}
	var page auditPage
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 3 {
		t.Fatalf("auditor reads of p1's disclosures = %+v, want the 3 before this one", page.Entries)
	}
	for i, want := range []string{"admin/audit/accounting?patient=Patient/p1&format=fhir", "admin/audit?patient=Patient/p1", "admin/audit/accounting?patient=Patient/p1&format=fhir"} {
		e := page.Entries[i]
		if e.Interaction != "audit-read" || e.Patient != "Patient/p1" || e.Caller.Org != "Organization/ops" || !strings.HasSuffix(e.Query, want) || len(e.Disclosed) != 0 {
			t.Errorf("entry %d = %+v, want an audit-read of Patient/p1 by Organization/ops, %q", i, e, want)
		}
	}
	// The default listing leaves them out: the seeded 12 and nothing else.
	if _, body := h.get("/admin/audit", tokAdmin); !strings.Contains(body, `"count":12`) {
		t.Errorf("default listing: %s", body)
	}
	if resp, body := h.get("/admin/audit?audit_reads=maybe", tokAdmin); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "OperationOutcome") {
		t.Errorf("audit_reads=maybe: %d %s", resp.StatusCode, body)
	}
	if n, err := l.Verify(t.Context()); err != nil || n < 17 {
		t.Errorf("verify: %d entries, %v", n, err)
	}
}

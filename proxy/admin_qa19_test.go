package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
)

// TestAdminAuditEmptyRange: from equal to to (to is exclusive) is a 400
// OperationOutcome on both routes, as ds4p audit refuses it: an empty
// accounting reads as "never disclosed".
func TestAdminAuditEmptyRange(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, path := range []string{
		"/admin/audit?from=2026-03-01&to=2026-03-01",
		"/admin/audit/accounting?patient=Patient/p2&from=2026-03-01&to=2026-03-01",
		"/admin/audit/accounting?patient=Patient/p2&from=2026-03-01T05:00:00%2B05:00&to=2026-03-01T00:00:00Z",
	} {
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "to equals from") {
			t.Errorf("%s = %d %s, want 400 saying to equals from", path, resp.StatusCode, body)
		}
	}
}

// patientAuditorAuth is a patient app's token that an identity provider
// let ask for the auditor scope.
type patientAuditorAuth struct{ launched bool }

func (a patientAuditorAuth) Verify(context.Context, string) (authn.Caller, error) {
	c := authn.Caller{Subject: "jane@portal", Client: "portal-app", Patient: "p1", FHIRUser: "Patient/p1", PatientUser: true,
		Scopes: []string{"patient/*.rs", authn.AuditorScope}}
	if a.launched { // a clinician launched in the patient's context is no patient
		c.FHIRUser, c.PatientUser, c.Subject = "Practitioner/dr", false, "dr"
	}
	return c, nil
}

// TestAdminAuditRefusesPatientTokens: a token bound to a patient cannot
// read the ledger or any patient's accounting, even with ds4p/auditor
// (before, /admin/audit gave it every patient's entries); a clinician
// launched in a patient's context still can.
func TestAdminAuditRefusesPatientTokens(t *testing.T) {
	t.Parallel()
	l := seededLedger(t)
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger, d.Auth = l, patientAuditorAuth{} })
	for _, path := range []string{"/admin/audit", "/admin/audit?patient=Patient/p2", "/admin/audit/accounting?patient=Patient/p2", "/admin/audit/accounting?patient=Patient/p1"} {
		resp, body := h.get(path, "any")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"OperationOutcome"`) || strings.Contains(body, "p2") {
			t.Errorf("patient token: %s = %d %s, want 403", path, resp.StatusCode, body)
		}
	}
	h = newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger, d.Auth = l, patientAuditorAuth{launched: true} })
	if resp, body := h.get("/admin/audit/accounting?patient=Patient/p2", "any"); resp.StatusCode != http.StatusOK {
		t.Errorf("clinician launched in a patient's context: %d %s, want 200", resp.StatusCode, body)
	}
}

// TestAdminAuditEmptyFilter: ?patient= (or recipient, purpose) with no
// value is a 400, not every patient's entries.
func TestAdminAuditEmptyFilter(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, q := range []string{"patient=", "recipient=", "purpose=&patient=Patient/p1"} {
		resp, body := h.get("/admin/audit?"+q, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "is empty") {
			t.Errorf("?%s = %d %.200s, want 400 saying it is empty", q, resp.StatusCode, body)
		}
	}
}

// TestAdminAuditOffsetPlusUnencoded: a from/to with a + offset typed into
// the URL as is (the query string decodes it as a space) is that time, not
// a 400 saying it is no RFC 3339 time.
func TestAdminAuditOffsetPlusUnencoded(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	resp, body := h.get("/admin/audit/accounting?patient=Patient/p1&from=2026-03-01T14:05:00+05:00", tokAdmin) // 09:05Z
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"seq":5,`) || strings.Contains(body, `"seq":3,`) {
		t.Errorf("from with an unencoded + offset = %d %.300s, want the disclosures from seq 5", resp.StatusCode, body)
	}
	resp, body = h.get("/admin/audit?from=2026-03-01T14:05:00+05:00&to=2026-03-01T14:07:00+05:00", tokAdmin)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"count":2`) {
		t.Errorf("/admin/audit with unencoded + offsets = %d %.300s, want seq 5 and 6", resp.StatusCode, body)
	}
}

// pagingLedger is a ledger whose Find honours Limit and After, as the
// real one does, over entries held in memory.
type pagingLedger struct{ entries []audit.Entry }

func (l *pagingLedger) Append(context.Context, ...audit.Entry) error { return nil }
func (l *pagingLedger) Find(_ context.Context, q audit.Query) ([]audit.Entry, error) {
	start := 0
	if !q.After.IsZero() {
		for i, e := range l.entries {
			if audit.CursorAfter(e) == q.After {
				start = i + 1
			}
		}
	}
	return l.entries[start:min(len(l.entries), start+q.Limit)], nil
}

// TestAdminAuditPageBoundedByItems: a ledger page ends early, with next,
// once it holds about 100,000 resources, and next continues it; before,
// limit=1000 answered all 150 entries of 2,000 resources here (300,000
// items in one answer) without next.
func TestAdminAuditPageBoundedByItems(t *testing.T) {
	t.Parallel()
	l := &pagingLedger{}
	items := make([]audit.Item, 2000)
	for i := range items {
		items[i] = audit.Item{Type: "Observation", ID: fmt.Sprintf("o%d", i), Labels: []string{}}
	}
	for i := 1; i <= 150; i++ {
		e := seededEntry(i)
		e.Seq, e.Disclosed = uint64(i), items
		l.entries = append(l.entries, e)
	}
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
	var page struct {
		Count int    `json:"count"`
		Next  string `json:"next"`
	}
	resp, body := h.get("/admin/audit?limit=1000", tokAdmin)
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil || page.Count != 100 || page.Next == "" {
		t.Fatalf("first page = %d, %d entries, next %q; want 100 entries and next", resp.StatusCode, page.Count, page.Next)
	}
	page.Next = ""
	resp, body = h.get("/admin/audit?limit=1000&cursor="+url.QueryEscape(jsonField(body, "next")), tokAdmin)
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil || page.Count != 50 || page.Next != "" {
		t.Errorf("second page = %d, %d entries, next %q; want the other 50 and no next", resp.StatusCode, page.Count, page.Next)
	}
}

// jsonField is the string member name of the JSON object body.
func jsonField(body, name string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	s, _ := m[name].(string)
	return s
}

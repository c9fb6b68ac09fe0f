package proxy

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"go.etcd.io/bbolt"
)

// auditT0 is the time of the first seeded ledger entry.
var auditT0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// auditHarness runs the proxy on a real ledger seeded with 12 entries:
// entry i (1..12) is i minutes after auditT0, for Patient/p1 when odd and
// Patient/p2 when even, from Organization/org-b for PAYMT when divisible by
// 3 (else org-a for TREAT), break-the-glass when divisible by 4; entry 12
// only withheld.
func auditHarness(t *testing.T) *harness {
	t.Helper()
	l := seededLedger(t)
	return newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
}

// tempLedger is a real, empty ledger in a temporary bbolt file.
func tempLedger(t *testing.T) *audit.Ledger {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	l, err := audit.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// seededLedger is a real ledger in a temporary bbolt file holding the 12
// entries of seededEntry.
func seededLedger(t *testing.T) *audit.Ledger {
	t.Helper()
	l := tempLedger(t)
	for i := 1; i <= 12; i++ {
		if err := l.Append(t.Context(), seededEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// seededEntry is entry i of auditHarness.
func seededEntry(i int) audit.Entry {
	e := audit.Entry{
		Time: auditT0.Add(time.Duration(i) * time.Minute), RequestID: fmt.Sprintf("req-%d", i),
		Caller:   audit.Party{Subject: "Practitioner/dr-a", Org: "Organization/org-a", Client: "ehr"},
		Purposes: []string{"TREAT"}, Patient: []string{"Patient/p2", "Patient/p1"}[i%2], Interaction: "search",
		Disclosed: []audit.Item{{Type: "Observation", ID: fmt.Sprintf("o%d", i), Version: "1", Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"}}},
	}
	if i%3 == 0 {
		e.Caller = audit.Party{Subject: "Practitioner/dr-b", Org: "Organization/org-b", Client: "payer", Name: "Dr. B, \"payer\"", Address: "1 Main St, Springfield"}
		e.Purposes = []string{"PAYMT"}
	}
	if i%4 == 0 {
		e.BreakGlass = &audit.BreakGlass{Reason: "cardiac arrest", Recipient: e.Caller.Subject, Affiliation: e.Caller.Org, DisclosedBy: DisclosedBy}
	}
	if i == 12 {
		e.Withheld, e.Disclosed = e.Disclosed, nil
	}
	return e
}

// auditPage is the body of GET /admin/audit.
type auditPage struct {
	Entries []audit.Entry `json:"entries"`
	Count   int           `json:"count"`
	Next    string        `json:"next"`
}

// TestAdminAuditQuery checks the filters, time range and paging of
// GET /admin/audit.
func TestAdminAuditQuery(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	at := func(i int) string { return auditT0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339) }
	tests := []struct {
		query string
		want  string
	}{
		{"", "[1 2 3 4 5 6 7 8 9 10 11 12]"},
		{"patient=Patient/p1", "[1 3 5 7 9 11]"},
		{"recipient=Organization/org-b", "[3 6 9 12]"},
		{"recipient=Practitioner/dr-b&patient=Patient/p2", "[6 12]"},
		{"purpose=PAYMT&from=" + url.QueryEscape(at(4)), "[6 9 12]"},
		// The purpose as a token may state it, read as the proxy records it.
		{"purpose=" + url.QueryEscape("http://terminology.hl7.org/CodeSystem/v3-ActReason|PAYMT") + "&from=" + url.QueryEscape(at(4)), "[6 9 12]"},
		{"purpose=" + url.QueryEscape(" PAYMT ") + "&from=" + url.QueryEscape(at(4)), "[6 9 12]"},
		{"break_glass=true", "[4 8 12]"},
		{"break_glass=false&to=" + url.QueryEscape(at(3)), "[1 2]"},
		{"break_glass=false", "[1 2 3 5 6 7 9 10 11]"}, // the others only, not all
		{"break_glass=0&patient=Patient/p2", "[2 6 10]"},
		{"from=2026-03-01&to=2026-03-02&patient=Patient/p2", "[2 4 6 8 10 12]"},
		{"from=2026-03-02", "[]"},
		{"patient=p1", "[1 3 5 7 9 11]"}, // the bare id, as auditors type it
		{"to=9999-12-31&patient=Patient/p2", "[2 4 6 8 10 12]"},
	}
	for _, tt := range tests {
		resp, body := h.get("/admin/audit?"+tt.query, tokAdmin)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("?%s: %d %s", tt.query, resp.StatusCode, body)
		}
		var page auditPage
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(entrySeqs(page.Entries)); got != tt.want || page.Count != len(page.Entries) || page.Next != "" {
			t.Errorf("?%s = %s (count %d, next %q), want %s", tt.query, got, page.Count, page.Next, tt.want)
		}
	}
	if resp, body := h.get("/admin/audit?purpose="+url.QueryEscape("|"), tokAdmin); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a purpose naming no purpose of use: %d %s", resp.StatusCode, body)
	}
}

// TestAdminAuditPaging walks the ledger five entries a page by the next
// cursor.
func TestAdminAuditPaging(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	var all []uint64
	path := "/admin/audit?limit=5"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var page auditPage
		_ = json.Unmarshal([]byte(body), &page)
		all = append(all, entrySeqs(page.Entries)...)
		if page.Next == "" {
			break
		}
		path = "/admin/audit?limit=5&cursor=" + url.QueryEscape(page.Next)
	}
	if fmt.Sprint(all) != "[1 2 3 4 5 6 7 8 9 10 11 12]" {
		t.Errorf("pages = %v", all)
	}
}

// TestAdminAuditBadParameters checks that malformed queries get a 400
// OperationOutcome.
func TestAdminAuditBadParameters(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, q := range []string{
		"limit=0", "limit=5&_count=10", "limit=1001", "_count=x", "cursor=abc", "from=yesterday", "to=2026-13-01",
		"from=2026-03-02&to=2026-03-01", "break_glass=maybe", "patinet=Patient/p1", "patient=a&patient=b",
		"patient=Observation/o1", "patient=Patient/", "patient=Patient/a%2Fb",
	} {
		resp, body := h.get("/admin/audit?"+q, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"OperationOutcome"`) {
			t.Errorf("?%s = %d %s, want 400 OperationOutcome", q, resp.StatusCode, body)
		}
	}
	for _, q := range []string{"", "patient=Patient/p1&format=xml", "patient=Patient/p1&from=x", "patient=Patient/p1&extra=1", "patient=Observation/o1", "patient=Patient/"} {
		resp, body := h.get("/admin/audit/accounting?"+q, tokAdmin)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"OperationOutcome"`) {
			t.Errorf("accounting ?%s = %d %s, want 400 OperationOutcome", q, resp.StatusCode, body)
		}
	}
	if resp, _ := h.get("/admin/audit/accounting?patient=Patient/p1", tokOther); resp.StatusCode != http.StatusForbidden {
		t.Errorf("accounting without the auditor role = %d, want 403", resp.StatusCode)
	}
}

// TestAdminAccountingJSON checks the JSON accounting: only disclosures,
// with date, recipient name and address, description and purpose.
func TestAdminAccountingJSON(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	resp, body := h.get("/admin/audit/accounting?patient=p2&to=2026-03-01T09:11:00Z", tokAdmin) // the bare id
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var got struct {
		Patient     string             `json:"patient"`
		Disclosures []audit.Disclosure `json:"disclosures"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, d := range got.Disclosures {
		seqs = append(seqs, d.Seq)
	}
	if got.Patient != "Patient/p2" || fmt.Sprint(seqs) != "[2 4 6 8 10]" {
		t.Fatalf("accounting = %s %v, want Patient/p2 [2 4 6 8 10]", got.Patient, seqs)
	}
	d := got.Disclosures[2] // seq 6: org-b, PAYMT, named
	want := audit.Recipient{Subject: "Practitioner/dr-b", Name: "Dr. B, \"payer\"", Organization: "Organization/org-b", Address: "1 Main St, Springfield", Client: "payer"}
	if d.Recipient != want || fmt.Sprint(d.Purposes) != "[PAYMT]" || !d.Date.Equal(auditT0.Add(6*time.Minute)) {
		t.Errorf("seq 6 = %+v", d)
	}
	if d.Description != "search: disclosed 1 Observation; labels R" {
		t.Errorf("description = %q", d.Description)
	}
	if bg := got.Disclosures[1]; bg.BreakGlass == nil || !strings.Contains(bg.Description, "break-the-glass): cardiac arrest") {
		t.Errorf("seq 4 does not show the emergency: %+v", bg)
	}
}

// TestAdminAccountingCSV checks the CSV header, quoting and rows.
func TestAdminAccountingCSV(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	resp, body := h.get("/admin/audit/accounting?patient=Patient/p1&format=csv", tokAdmin)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, body)
	}
	if len(rows) != 7 || strings.Join(rows[0], ",") != strings.Join(audit.CSVHeader, ",") {
		t.Fatalf("rows = %d, header %v", len(rows), rows[0])
	}
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	r := rows[2] // seq 3
	if r[col("seq")] != "3" || r[col("recipient_name")] != `Dr. B, "payer"` || r[col("recipient_address")] != "1 Main St, Springfield" ||
		r[col("purpose")] != "PAYMT" || r[col("disclosed")] != "Observation/o3/_history/1" || r[col("date")] != "2026-03-01T09:03:00Z" {
		t.Errorf("row of seq 3 = %q", r)
	}
}

// TestAdminAccountingFHIR checks the BALP AuditEvent Bundle.
func TestAdminAccountingFHIR(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	resp, body := h.get("/admin/audit/accounting?patient=Patient/p2&format=fhir", tokAdmin)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/fhir+json" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var b audit.Bundle
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	if b.ResourceType != "Bundle" || b.Type != "collection" || len(b.Entry) != 5 { // seq 12 withheld only
		t.Fatalf("bundle %s/%s with %d entries", b.ResourceType, b.Type, len(b.Entry))
	}
	ae := b.Entry[1].Resource // seq 4, break-the-glass
	if ae.ResourceType != "AuditEvent" || ae.Type.Code != "rest" || ae.Subtype[0].Code != "search-type" || ae.Action != "E" || ae.Outcome != "0" {
		t.Errorf("event kind = %+v", ae)
	}
	if ae.Recorded != "2026-03-01T09:04:00Z" || ae.Entity[0].What.Reference != "Patient/p2" || ae.Entity[0].Role.Code != "1" || ae.Entity[0].Type.Code != "1" {
		t.Errorf("recorded %s, patient entity %+v", ae.Recorded, ae.Entity[0])
	}
	if ae.Entity[1].What.Reference != "Observation/o4/_history/1" || ae.Entity[1].Role.Code != "4" || ae.Entity[1].SecurityLabel[0].Code != "R" {
		t.Errorf("data entity = %+v", ae.Entity[1])
	}
	var requestor *audit.AuditAgent
	for i := range ae.Agent {
		if ae.Agent[i].Requestor {
			requestor = &ae.Agent[i]
		}
	}
	if requestor == nil || requestor.Who.Reference != "Practitioner/dr-a" || requestor.PurposeOfUse[0].Coding[0].Code != "TREAT" {
		t.Errorf("requestor = %+v", requestor)
	}
	if codes := fmt.Sprint(ae.PurposeOfEvent); !strings.Contains(codes, "TREAT") || !strings.Contains(codes, "BTG") || ae.Source.Observer.Display == "" {
		t.Errorf("purposeOfEvent %s, source %+v", codes, ae.Source)
	}
}

// entrySeqs returns the Seq of each entry.
func entrySeqs(entries []audit.Entry) []uint64 {
	out := []uint64{}
	for _, e := range entries {
		out = append(out, e.Seq)
	}
	return out
}

// auditLogBuffer is a bytes.Buffer safe for the server's goroutines.
type auditLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *auditLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *auditLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAdminAuditLogsNoQueryValues checks that neither queries, bad
// parameters nor ledger failures put query values in the log.
func TestAdminAuditLogsNoQueryValues(t *testing.T) {
	t.Parallel()
	var logs auditLogBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) {
		d.Logger = logger
		d.Ledger = failingFinder{}
	})
	for _, q := range []string{
		"/admin/audit?patient=Patient/secret-p&recipient=Organization/secret-o&purpose=SECRETP",
		"/admin/audit?patient=Patient/secret-p&cursor=secret-cursor",
		"/admin/audit/accounting?patient=Patient/secret-p&format=csv",
		"/admin/audit/accounting?patient=Patient/secret-p&format=secret-format",
	} {
		h.get(q, tokAdmin)
	}
	if strings.Contains(strings.ToLower(logs.String()), "secret") {
		t.Errorf("the log holds query values:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "ledger query failed") {
		t.Errorf("the ledger failure was not logged:\n%s", logs.String())
	}
}

// failingFinder is a ledger whose reads fail.
type failingFinder struct{}

func (failingFinder) Append(context.Context, ...audit.Entry) error { return nil }

func (failingFinder) Find(context.Context, audit.Query) ([]audit.Entry, error) {
	return nil, errors.New("audit: finding entries: disk on fire")
}

// TestAdminAnswersAreNotCached: ledger pages and accountings name patients;
// like every FHIR answer they carry Cache-Control: no-store.
func TestAdminAnswersAreNotCached(t *testing.T) {
	t.Parallel()
	h := auditHarness(t)
	for _, path := range []string{
		"/admin/audit", "/admin/audit?patient=p1",
		"/admin/audit/accounting?patient=Patient/p1", "/admin/audit/accounting?patient=Patient/p1&format=csv",
		"/admin/audit/accounting?patient=Patient/p1&format=fhir",
	} {
		resp, body := h.get(path, tokAdmin)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s = %d, Cache-Control %q, want 200 and no-store (%.200s)", path, resp.StatusCode, resp.Header.Get("Cache-Control"), body)
		}
	}
}

// TestAccountingSaysWhatWasPruned: after the oldest entries were pruned into
// export files, an accounting reaching back before the checkpoint says so
// (body and header) instead of reading as "nothing disclosed then"; one
// starting after it does not.
func TestAccountingSaysWhatWasPruned(t *testing.T) {
	t.Parallel()
	l := seededLedger(t)
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
	resp, body := h.get("/admin/audit/accounting?patient=Patient/p1", tokAdmin)
	if resp.StatusCode != 200 || strings.Contains(body, "pruned") || resp.Header.Get("X-DS4P-Pruned-Through") != "" {
		t.Fatalf("before any prune: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if _, err := l.Prune(t.Context(), auditT0.Add(6*time.Minute+30*time.Second), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	resp, body = h.get("/admin/audit/accounting?patient=Patient/p1", tokAdmin)
	if resp.StatusCode != 200 || !strings.Contains(body, `"pruned":{`) || !strings.Contains(body, `"through_seq":6`) ||
		resp.Header.Get("X-DS4P-Pruned-Through") == "" {
		t.Fatalf("after pruning entries 1-6: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := h.get("/admin/audit/accounting?patient=Patient/p1&format=csv", tokAdmin); resp.Header.Get("X-DS4P-Pruned-Through") == "" {
		t.Error("the CSV accounting does not say what was pruned")
	}
	from := url.QueryEscape(auditT0.Add(8 * time.Minute).Format(time.RFC3339))
	if resp, body := h.get("/admin/audit/accounting?patient=Patient/p1&from="+from, tokAdmin); strings.Contains(body, "pruned") || resp.Header.Get("X-DS4P-Pruned-Through") != "" {
		t.Errorf("an accounting after the checkpoint mentions pruning: %s", body)
	}
}
